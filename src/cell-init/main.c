/* cell-init - a supervised cell's pid 1 once its workload runs. The init
 * that set the cell up execs this (an fd to it was opened by the starter,
 * celld, before the cell's root replaced the host's), so each cell's pid 1
 * holds none of celld's memory: a few pages of its own, the rest shared by
 * every cell. It forwards signals, reaps, and sends the workload's status
 * (src/lib/sandbox/reaper.c).
 * Usage (by the init only): cell-init WORKLOAD_PID STATUS_FD PARENT_PIDFD */
#include "sandbox/reaper.h"

#include <stdlib.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
    if (argc != 4)
        return REAPER_EXIT_FAILED;
    /* as the init it replaces: nobody but root may look into it */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    sandbox_reap_loop((pid_t)atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
}
