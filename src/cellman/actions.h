/* actions.h - apply actions (cell-spec(5): exec, dir, line, symlink, copy,
 * untar, file, patch, template, script), performed by actions.c inside a
 * cell's filesystem view: the caller (apply.c) has already pivoted into the
 * cell's root (its layer overlay, writable, with its volumes mounted), so
 * every path an action names is a path inside the cell, and a symlink there
 * cannot lead out to the host.
 *
 * What lives on the host (the sources of copy, untar, template and script,
 * relative to the desired-state directory, and the values of from_env
 * tokens) is opened and read by actions_prepare() BEFORE the view is
 * entered.
 *
 * In short (cell-spec(5) has the whole story):
 *   file, copy, template  replace a file atomically (a new file beside it,
 *                         synced, renamed over it); changed only when its
 *                         content, mode or owner differ
 *   dir                   mkdir -p, then mode and owner
 *   line                  appends a line no line of the file equals
 *   symlink               makes or retargets a link; never replaces a file
 *   patch                 a one-file unified diff: hunks found at their line
 *                         or the nearest offset; already applied: unchanged
 *   untar                 refuses (before writing anything) an entry that is
 *                         absolute, has a ".." component, goes through a
 *                         symlink, is a device, or links outside the
 *                         destination (archive_check.h has the list)
 *   exec, script          /bin/sh in a clean environment, cwd /, stdin empty
 * Options: mode is an octal string ("0750"), or an integer whose digits are
 * read as octal (750); owner and group are numbers or names looked up in
 * the cell's own /etc/passwd and /etc/group. A template's {{name}} tokens
 * are run_uid, run_gid, cell_name, cell_root, manifest_dir, arch and those
 * of opts.tokens (which may replace a built-in one). */
#ifndef CELLMAN_ACTIONS_H
#define CELLMAN_ACTIONS_H

#include "cell/cell.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct action_ctx {
    const char *cell_name;
    const char *spec_dir;  /* the desired-state directory: relative sources */
    const char *cell_root; /* {{cell_root}}: the cell's runtime directory on the host */
    uid_t run_uid;         /* {{run_uid}}, {{run_gid}}: the user the cell runs as */
    gid_t run_gid;
    int output_fd; /* where exec and script output goes (-v), or -1: kept for errors only */
};

/* What actions_prepare() got ready for each action (index i of the list). */
struct action_prep {
    size_t count;
    int *source_fds; /* an open host source, or -1 */
    char **texts;    /* template: the rendered text (tokens filled in); script: its content; or NULL */
};

/* On the host: open every source, read templates and fill in their tokens
 * (an unknown or malformed {{token}}, or a from_env variable that is not
 * set, is an error naming the action). Also refuses an unknown action or
 * option. 0, or -1 with err and `prep` left empty (releasing it is
 * harmless). */
int actions_prepare(json_t *actions, const struct action_ctx *ctx, struct action_prep *prep, struct cell_err *err);
/* Inside the view: perform action `index` (of the list given to
 * actions_prepare). 0 (with *changed: whether anything was changed), or -1
 * with err: "[N] DESCRIPTION: what failed" (N = index + 1). Running it
 * again is safe: sources are read from their start each time. */
int action_run(json_t *action, size_t index, const struct action_prep *prep, const struct action_ctx *ctx,
               bool *changed, struct cell_err *err);
void actions_release(struct action_prep *prep);
/* A one-line summary of an action, for reports and errors: `exec "make -C
 * /srv"` (a command shortened to 40 bytes, then "..."), `file /srv/index.html`,
 * `copy nginx.conf -> /etc/nginx.conf`, `symlink LINK -> TARGET`. */
void action_describe(json_t *action, char *out, size_t len);

/* The two parsers of operator-written text the template and patch actions
 * use; pure (memory only: no files, no environment), exported for the fuzz
 * target tests/fuzz/fuzz_actions.c.
 *
 * `text` with every {{name}} (spaces or tabs around the name allowed)
 * replaced by the string value of `tokens` (a JSON object) under that name;
 * a single {, or a }} outside a token, is kept as it is, and a value is not
 * rendered again. Returns 0 with *out a new NUL-terminated string (the
 * caller frees it), or -1 with *out NULL and err "line N: ..." (N 1-based):
 * a {{ without a }} on the same line, a name that is not
 * [A-Za-z_][A-Za-z0-9_]* (or is 128 bytes or more), a name `tokens` has no
 * string for (or, out of memory, "render: ..."). */
int actions_render_template(const char *text, json_t *tokens, char **out, struct cell_err *err);
/* The one-file unified diff `diff` (NUL-terminated; lines outside its hunks,
 * file names among them, are ignored, but a "+++ " after a hunk is an error)
 * applied to text[0..len) (any bytes). Hunks are placed in order and without
 * overlap, each where its old lines are nearest to the line its @@ says
 * (moved by the offset the hunk before was found at); any line number is
 * accepted. Returns
 *   0, *out a new buffer of *out_len bytes (NUL-terminated besides; the
 *      caller frees it): the patched text;
 *   0, *out NULL (*out_len untouched): applied already: the hunks' new lines
 *      can all be placed that way and their old lines cannot (or a hunk has
 *      no old lines, which proves nothing). Old lines that can be placed
 *      win: if the lines a hunk replaces are also elsewhere in the text, the
 *      next run replaces them there too;
 *   -1, *out NULL, err: a malformed diff ("the diff has no hunks", "hunk N:
 *      ...", "... more than one file ...") or "hunk N does not apply (line
 *      L)" (or, out of memory, "parse the diff: ..." or "patch: ..."). */
int actions_apply_diff(const char *text, size_t len, const char *diff, char **out, size_t *out_len,
                       struct cell_err *err);

#endif
