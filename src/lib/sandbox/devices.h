/* devices.h - a cell's device access list (OCI linux.resources.devices),
 * enforced by its cgroup: the v1 "devices" controller (devices.allow and
 * devices.deny) or, on cgroup v2, an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cell's cgroup.
 *
 * The list always starts from "deny all"; the last rule that matches a
 * request decides. A request names one device (type, major, minor) and the
 * access it wants: one bit for mknod, and for open() the read and write bits
 * together (O_RDWR asks for both). A rule matches a request when its type
 * and numbers match and
 *   - for an allow rule: it grants every requested bit;
 *   - for a deny rule: it denies at least one requested bit.
 * For one bit that is plain "last match wins"; for several it never allows
 * more than checking each bit on its own would (it may deny O_RDWR that two
 * separate "r" and "w" rules would allow bit by bit: write "rw" in one rule).
 *
 * At most DEVICES_MAX_RULES rules; numbers are -1 (any) or 0..INT32_MAX;
 * a rule needs at least one access bit. */
#ifndef CELL_SANDBOX_DEVICES_H
#define CELL_SANDBOX_DEVICES_H

#include "cell/cell.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct cell_device_rule is in cell/cell.h (a spec carries the list) */
enum { DEVICE_READ = CELL_DEVICE_READ, DEVICE_WRITE = CELL_DEVICE_WRITE, DEVICE_MKNOD = CELL_DEVICE_MKNOD };

#define DEVICES_MAX_RULES 256

/* Whether rules[0..n) let a process do `access` on device TYPE ('c' or 'b')
 * MAJOR:MINOR, as described above (no rule matches: denied). Pure; the eBPF
 * program decides the same. */
bool devices_allowed(const struct cell_device_rule *rules, size_t n, char type, unsigned major, unsigned minor,
                     unsigned access);

/* Check rules[0..n) against the limits above. 0, or -1 with err naming the
 * rule (by its index) and what is wrong with it. Both writers call it. */
int devices_validate(const struct cell_device_rule *rules, size_t n, struct cell_err *err);

/* cgroup v1: write the rules into DIR, an existing cgroup of the v1 "devices"
 * hierarchy: "a *:* rwm" to devices.deny first, then each rule in order to
 * devices.allow or devices.deny in the kernel's format ("c 1:3 rw",
 * "b *:* m", "a" for any device with every access), one line ending in
 * "\n" per write(). A type-'a' rule with numbers or fewer bits is written
 * as a 'c' and a 'b' line (the kernel reads "a" as every device, ignoring
 * the rest).
 * The kernel's limit: with "deny all" as the default, a devices.deny line
 * only takes back access that an allow line with exactly its type and
 * numbers gave (and the other way round after an allow "a"). So a deny rule
 * that covers narrower earlier allows ("c *:* w" after "c 1:3 rw") is
 * followed by a line for each of those ("c 1:3 w"), and one that would
 * narrow a wider earlier allow ("c 1:3 w" after "c *:* rw") is refused,
 * naming both, before anything is written. What the kernel then allows is
 * what devices_allowed allows, except that it merges rules with the same
 * numbers ("c 1:3 r" and "c 1:3 w" allow O_RDWR, as "c 1:3 rw" does).
 * 0, or -1 with err naming the file and the rule. */
int devices_v1_write(const char *dir, const struct cell_device_rule *rules, size_t n, struct cell_err *err);
/* The same into a plain test directory: the files are created when missing
 * and appended to (a real cgroupfs has them, and appends by itself). */
int devices_v1_write_fake(const char *dir, const struct cell_device_rule *rules, size_t n, struct cell_err *err);

/* cgroup v2: compile the rules into an eBPF program that decides as
 * devices_allowed does, load it and attach it (BPF_CGROUP_DEVICE,
 * BPF_F_ALLOW_MULTI: programs already on the cgroup or its ancestors keep
 * deciding too, and a device must pass them all) to the cgroup v2 directory
 * fd CGROUP_FD. The program's fd is closed: the attachment keeps the program
 * while the cgroup lives. 0, or -1 with err (the end of the verifier's log
 * when the kernel refuses the program). */
int devices_bpf_attach(int cgroup_fd, const struct cell_device_rule *rules, size_t n, struct cell_err *err);

#endif
