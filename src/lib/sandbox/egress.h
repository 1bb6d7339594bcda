/* egress.h - a job's network scope (issue 7): a cell with egress rules gets
 * a veth link out of its own network namespace, and nftables rules in that
 * namespace that allow exactly the listed address/port pairs (hosts are
 * resolved before the cell starts) and drop everything else, inbound too
 * unless it answers an allowed connection. The cell has no CAP_NET_ADMIN,
 * so it cannot change them.
 *
 * The link's other end is in the host's network namespace, or in a named
 * one (`ip netns`; tests build their own "outside" that way and no packet
 * leaves the machine). Addresses: a /30 of 100.64.0.0/16 chosen from the
 * runner's pid, the cell .2 with its default route via .1. The host end is
 * removed at teardown (the cell's end goes with its namespace anyway).
 * The work is done by iproute2's `ip` and nftables' `nft`. */
#ifndef CELL_SANDBOX_EGRESS_H
#define CELL_SANDBOX_EGRESS_H

#include "cell/job.h"

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>

struct egress_target {
    struct in_addr addr;
    uint16_t port;
    bool udp;
};

struct egress_link {
    char host_if[IF_NAMESIZE]; /* "" until made */
    char outside[64];          /* the named namespace of the host end; "" for the host's */
    char host_addr[16], cell_addr[16];
};

/* The rules' hosts as IPv4 addresses (getaddrinfo, before start): every
 * address a name has is allowed. *out is malloc'd. A name that does not
 * resolve is an error naming it. */
int egress_resolve(const struct cell_egress_rule *rules, size_t n, struct egress_target **out, size_t *nout,
                   struct cell_err *err);
/* The link and the rules for the cell whose init is `init_pid` (call it
 * before the workload runs: cell_start_opts.before_workload). `outside`:
 * a named network namespace for the host end, or NULL. On failure what was
 * made is removed. */
int egress_setup(pid_t init_pid, const struct egress_target *targets, size_t n, const char *outside,
                 struct egress_link *link, struct cell_err *err);
/* The host end's name for a cell started by process `starter`. */
void egress_link_name(pid_t starter, char name[IF_NAMESIZE]);
/* Whether a link of that name is still in `outside` (NULL: the host's
 * namespace): for residue checks. */
bool egress_link_left(const char *outside, const char *name);
/* Whether the cell's nftables table is in the network namespace at
 * `netns_path` (/proc/PID/ns/net, or an nsfs mount): for residue checks. */
bool egress_rules_left(const char *netns_path);
/* Remove the host end (if any). 0, or -1 with err when it would not go. */
int egress_teardown(struct egress_link *link, struct cell_err *err);

#endif
