/* cli.h - what the `cell` command's files share: the command table entry
 * type, global options, and the one place errors are printed. */
#ifndef CELL_CLI_H
#define CELL_CLI_H

#include "cell/cell.h"
#include "cell/control.h"
#include "celld_client.h"

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv, const struct cli_globals *g);
    void (*help)(void);
    const char *summary;
};

int cmd_run(int argc, char **argv, const struct cli_globals *g);
void cmd_run_help(void);
/* cmd_cells.c: the supervised cells, through celld */
int cmd_run_detached(int argc, char **argv, int first, const struct cli_globals *g);
int cmd_status(int argc, char **argv, const struct cli_globals *g);
void cmd_status_help(void);
int cmd_start(int argc, char **argv, const struct cli_globals *g);
void cmd_start_help(void);
int cmd_stop(int argc, char **argv, const struct cli_globals *g);
void cmd_stop_help(void);
int cmd_restart(int argc, char **argv, const struct cli_globals *g);
void cmd_restart_help(void);
int cmd_delete(int argc, char **argv, const struct cli_globals *g);
void cmd_delete_help(void);
int cmd_exec(int argc, char **argv, const struct cli_globals *g);
void cmd_exec_help(void);
int cmd_events(int argc, char **argv, const struct cli_globals *g);
void cmd_events_help(void);
int cmd_swap(int argc, char **argv, const struct cli_globals *g);
void cmd_swap_help(void);
int cmd_up(int argc, char **argv, const struct cli_globals *g);
void cmd_up_help(void);
int cmd_down(int argc, char **argv, const struct cli_globals *g);
void cmd_down_help(void);
int cmd_logs(int argc, char **argv, const struct cli_globals *g);
void cmd_logs_help(void);
/* cmd_oci.c: cell as an OCI runtime (runc's verbs) */
int cmd_create(int argc, char **argv, const struct cli_globals *g);
void cmd_create_help(void);
int cmd_state(int argc, char **argv, const struct cli_globals *g);
void cmd_state_help(void);
int cmd_list(int argc, char **argv, const struct cli_globals *g);
void cmd_list_help(void);
int cmd_spec(int argc, char **argv, const struct cli_globals *g);
void cmd_spec_help(void);
int cmd_features(int argc, char **argv, const struct cli_globals *g);
void cmd_features_help(void);
void cmd_kill_help(void);
int cmd_ps(int argc, char **argv, const struct cli_globals *g);
int cmd_pause(int argc, char **argv, const struct cli_globals *g);
int cmd_resume(int argc, char **argv, const struct cli_globals *g);
void cmd_pause_help(void);
int cmd_update(int argc, char **argv, const struct cli_globals *g);
void cmd_update_help(void);
void cmd_ps_help(void);
/* the verbs shared with supervised cells, for an OCI container's ID */
bool oci_container_exists(const struct cli_globals *g, const char *id);
int oci_start(int argc, char **argv, const struct cli_globals *g);
int oci_kill(int argc, char **argv, const struct cli_globals *g);
int oci_delete(int argc, char **argv, const struct cli_globals *g);
int oci_run(int argc, char **argv, const struct cli_globals *g);
int oci_exec(int argc, char **argv, const struct cli_globals *g);
bool oci_exec_is_container(int argc, char **argv, const struct cli_globals *g);
bool oci_run_is_bundle(int argc, char **argv);
/* cmd_bundle.c: bundles for other OCI runtimes (cell bundle, cell run --backend oci) */
struct run_backend {
    bool oci;            /* --backend oci */
    const char *runtime; /* --oci-runtime: runc (default), crun, runsc or a path */
};
int cmd_bundle(int argc, char **argv, const struct cli_globals *g);
void cmd_bundle_help(void);
/* Take --backend and --oci-runtime out of cell run's arguments (argv is
 * shortened in place); -1 with err on a bad value. */
int run_backend_options(int *argc, char ***argv, struct run_backend *b, struct cell_err *err);
/* Run `spec` (validated) with the OCI runtime b->runtime; its exit code. */
int cmd_run_oci(struct cell_spec *spec, const struct run_backend *b, const struct cli_globals *g);
/* cmd_job.c: CellOS ExecutionCell jobs */
int cmd_job(int argc, char **argv, const struct cli_globals *g);
void cmd_job_help(void);
/* What `job run` and `job submit` are given. */
struct job_args {
    const char *file;
    const char *export_dir, *secrets_dir, *egress_netns, *backend, *runtime;
    const char *events, *nats_url; /* run only */
    bool report;                   /* run only */
    bool wait;                     /* submit only */
    char runtime_path[PATH_MAX];   /* --backend oci: the runtime found; "" otherwise */
};
/* Parse them (`run`: run's own too): 1, 0 after --help, -2 on a usage error
 * (said), -1 when the runtime is not there (said). */
int job_parse_args(int argc, char **argv, bool run, struct job_args *a);
/* cmd_job_submit.c: jobs handed to celld, and their records */
int job_submit(int argc, char **argv, const struct cli_globals *g);
int job_status(int argc, char **argv, const struct cli_globals *g);
int job_logs(int argc, char **argv, const struct cli_globals *g);
int job_wait(int argc, char **argv, const struct cli_globals *g);
int job_rm(int argc, char **argv, const struct cli_globals *g);
/* cmd_stats.c */
int cmd_stats(int argc, char **argv, const struct cli_globals *g);
void cmd_stats_help(void);
/* cmd_top.c: a live view of the supervised cells */
int cmd_top(int argc, char **argv, const struct cli_globals *g);
void cmd_top_help(void);

/* Print "cell: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
