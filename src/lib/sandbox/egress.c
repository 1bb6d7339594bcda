/* egress.c - a job's network scope: a veth link out of the cell's network
 * namespace and nftables rules in it (see egress.h). `ip` and `nft` do the
 * work; their errors are passed on, naming the step. */
#include "sandbox/egress.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Run argv (a program found in the usual system directories); its stderr
 * (the first line) into err on failure. `input`: text for its stdin, or NULL. */
static int run_tool(char *const argv[], const char *input, const char *step, struct cell_err *err)
{
    int in[2] = {-1, -1}, errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) < 0 || (input && pipe2(in, O_CLOEXEC) < 0))
        return cell_err_set(err, errno, "egress: %s: pipe", step);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, errpipe[1], 2);
    if (input)
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char path[64];
    pid_t pid = -1;
    int rc = ENOENT;
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs) && rc == ENOENT; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], argv[0]);
        if (access(path, X_OK) == 0)
            rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(errpipe[1]);
    if (in[0] >= 0)
        close(in[0]);
    if (rc != 0) {
        close(errpipe[0]);
        if (in[1] >= 0)
            close(in[1]);
        return cell_err_set(err, rc, "egress: %s: run %s%s", step, argv[0],
                            rc == ENOENT ? " (install iproute2 and nftables)" : "");
    }
    if (input) {
        (void)!write_all(in[1], input, strlen(input));
        close(in[1]);
    }
    char msg[300] = "";
    ssize_t n = read(errpipe[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    close(errpipe[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return cell_err_set(err, 0, "egress: %s: %s failed%s%s", step, argv[0], msg[0] ? ": " : "", msg);
    return 0;
}

int egress_resolve(const struct cell_egress_rule *rules, size_t n, struct egress_target **out, size_t *nout,
                   struct cell_err *err)
{
    *out = NULL;
    *nout = 0;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        struct addrinfo hints = {.ai_family = AF_INET,
                                 .ai_socktype = strcmp(rules[i].protocol, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM};
        struct addrinfo *res;
        int rc = getaddrinfo(rules[i].host, NULL, &hints, &res);
        if (rc != 0) {
            free(*out);
            *out = NULL;
            *nout = 0;
            return cell_err_set(err, 0, "egress: spec.authority.egressRules[%zu]: \"%s\" does not resolve: %s", i,
                                rules[i].host, gai_strerror(rc));
        }
        for (struct addrinfo *a = res; a; a = a->ai_next) {
            if (*nout == cap) {
                cap = cap ? cap * 2 : 8;
                struct egress_target *grown = realloc(*out, cap * sizeof *grown);
                if (grown == NULL) {
                    freeaddrinfo(res);
                    free(*out);
                    *out = NULL;
                    return cell_err_set(err, ENOMEM, "egress: resolve");
                }
                *out = grown;
            }
            (*out)[(*nout)++] = (struct egress_target){.addr = ((struct sockaddr_in *)a->ai_addr)->sin_addr,
                                                       .port = rules[i].port,
                                                       .udp = strcmp(rules[i].protocol, "udp") == 0};
        }
        freeaddrinfo(res);
    }
    return 0;
}

/* The nft script for the cell's namespace. */
static char *rules_script(const struct egress_target *t, size_t n)
{
    size_t cap = 512 + n * 96;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    size_t len = (size_t)snprintf(s, cap,
                                  "table inet cell_egress {\n"
                                  " chain output {\n"
                                  "  type filter hook output priority 0; policy drop;\n"
                                  "  oifname \"lo\" accept\n"
                                  "  ct state established,related accept\n");
    for (size_t i = 0; i < n; i++) {
        char addr[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &t[i].addr, addr, sizeof addr);
        len += (size_t)snprintf(s + len, cap - len, "  ip daddr %s %s dport %u accept\n", addr,
                                t[i].udp ? "udp" : "tcp", t[i].port);
    }
    snprintf(s + len, cap - len,
             " }\n"
             " chain input {\n"
             "  type filter hook input priority 0; policy drop;\n"
             "  iifname \"lo\" accept\n"
             "  ct state established,related accept\n"
             " }\n"
             "}\n");
    return s;
}

int egress_setup(pid_t init_pid, const struct egress_target *targets, size_t n, const char *outside,
                 struct egress_link *link, struct cell_err *err)
{
    memset(link, 0, sizeof *link);
    if (outside && snprintf(link->outside, sizeof link->outside, "%s", outside) >= (int)sizeof link->outside)
        return cell_err_set(err, ENAMETOOLONG, "egress: network namespace %s", outside);
    unsigned block = (unsigned)getpid() % 16384; /* a /30 of 100.64.0.0/16 */
    snprintf(link->host_addr, sizeof link->host_addr, "100.64.%u.%u", block / 64, (block % 64) * 4 + 1);
    snprintf(link->cell_addr, sizeof link->cell_addr, "100.64.%u.%u", block / 64, (block % 64) * 4 + 2);
    char host_if[IF_NAMESIZE], cell_if[IF_NAMESIZE], pid[16], host_cidr[24], cell_cidr[24], netns[96];
    egress_link_name(getpid(), host_if);
    snprintf(cell_if, sizeof cell_if, "cj%xc", (unsigned)getpid());
    snprintf(pid, sizeof pid, "%d", (int)init_pid);
    snprintf(host_cidr, sizeof host_cidr, "%s/30", link->host_addr);
    snprintf(cell_cidr, sizeof cell_cidr, "%s/30", link->cell_addr);
    snprintf(netns, sizeof netns, "/proc/%d/ns/net", (int)init_pid);
    char *make[] = {"ip", "link", "add", host_if, "type", "veth", "peer", "name", cell_if, "netns", pid, NULL};
    if (run_tool(make, NULL, "make the veth link", err) < 0)
        return -1;
    snprintf(link->host_if, sizeof link->host_if, "%s", host_if);
    char net_opt[128];
    snprintf(net_opt, sizeof net_opt, "--net=%s", netns);
    char *to_outside[] = {"ip", "link", "set", host_if, "netns", link->outside, NULL};
    char *host_addr[] = {"ip", "-n", link->outside, "addr", "add", host_cidr, "dev", host_if, NULL};
    char *host_up[] = {"ip", "-n", link->outside, "link", "set", host_if, "up", NULL};
    char *host_addr_here[] = {"ip", "addr", "add", host_cidr, "dev", host_if, NULL};
    char *host_up_here[] = {"ip", "link", "set", host_if, "up", NULL};
    char *cell_rename[] = {"nsenter", net_opt, "ip", "link", "set", cell_if, "name", "eth0", NULL};
    char *cell_addr[] = {"nsenter", net_opt, "ip", "addr", "add", cell_cidr, "dev", "eth0", NULL};
    char *cell_up[] = {"nsenter", net_opt, "ip", "link", "set", "eth0", "up", NULL};
    char *cell_route[] = {"nsenter", net_opt, "ip", "route", "add", "default", "via", link->host_addr, NULL};
    char *cell_rules[] = {"nsenter", net_opt, "nft", "-f", "-", NULL};
    char *script = rules_script(targets, n);
    int rc = script == NULL ? cell_err_set(err, ENOMEM, "egress: rules") : 0;
    /* the rules first: the link is never up without them */
    if (rc == 0)
        rc = run_tool(cell_rules, script, "load the nftables rules in the cell", err);
    if (rc == 0 && link->outside[0])
        rc = run_tool(to_outside, NULL, "move the host end", err) < 0 ||
                     run_tool(host_addr, NULL, "address the host end", err) < 0 ||
                     run_tool(host_up, NULL, "bring the host end up", err) < 0
                 ? -1
                 : 0;
    else if (rc == 0)
        rc = run_tool(host_addr_here, NULL, "address the host end", err) < 0 ||
                     run_tool(host_up_here, NULL, "bring the host end up", err) < 0
                 ? -1
                 : 0;
    if (rc == 0)
        rc = run_tool(cell_rename, NULL, "name the cell's end", err) < 0 ||
                     run_tool(cell_addr, NULL, "address the cell's end", err) < 0 ||
                     run_tool(cell_up, NULL, "bring the cell's end up", err) < 0 ||
                     run_tool(cell_route, NULL, "route the cell through the link", err) < 0
                 ? -1
                 : 0;
    free(script);
    if (rc < 0) {
        struct cell_err ignored;
        egress_teardown(link, &ignored);
    }
    return rc;
}

void egress_link_name(pid_t starter, char name[IF_NAMESIZE])
{
    snprintf(name, IF_NAMESIZE, "cj%xh", (unsigned)starter);
}

bool egress_link_left(const char *outside, const char *name)
{
    char *here[] = {"ip", "link", "show", (char *)name, NULL};
    char *there[] = {"ip", "-n", (char *)outside, "link", "show", (char *)name, NULL};
    struct cell_err ignored;
    return run_tool(outside ? there : here, NULL, "look for the link", &ignored) == 0;
}

bool egress_rules_left(const char *netns_path)
{
    char net_opt[PATH_MAX + 8];
    snprintf(net_opt, sizeof net_opt, "--net=%s", netns_path);
    char *list[] = {"nsenter", net_opt, "nft", "list", "table", "inet", "cell_egress", NULL};
    struct cell_err ignored;
    return run_tool(list, NULL, "look for the rules", &ignored) == 0;
}

int egress_teardown(struct egress_link *link, struct cell_err *err)
{
    if (!link->host_if[0])
        return 0;
    char *del_outside[] = {"ip", "-n", link->outside, "link", "del", link->host_if, NULL};
    char *del_here[] = {"ip", "link", "del", link->host_if, NULL};
    struct cell_err e = {0};
    int rc = run_tool(link->outside[0] ? del_outside : del_here, NULL, "remove the link", &e);
    /* gone with the cell's namespace already: fine */
    if (rc < 0 && strstr(e.msg, "Cannot find device") == NULL) {
        *err = e;
        return -1;
    }
    link->host_if[0] = '\0';
    return 0;
}
