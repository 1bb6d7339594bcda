/* reaper.h - the cell's pid 1 once the workload runs (reaper.c). */
#ifndef CELL_SANDBOX_REAPER_H
#define CELL_SANDBOX_REAPER_H

#include <sys/types.h>

/* What the init exits with when it cannot go on (CELL_EXIT_SETUP). */
#define REAPER_EXIT_FAILED 125

/* Forward signals to `workload`, reap every child; when the workload ends,
 * send its wait status on `status_fd` and exit with its code. A readable
 * `parent_pidfd` (-1: none) means the starter died: exit at once. */
__attribute__((noreturn)) void sandbox_reap_loop(pid_t workload, int status_fd, int parent_pidfd);

#endif
