/* devices.c - a cell's device access list (OCI linux.resources.devices):
 * the decision itself (devices_allowed), the cgroup v1 devices.allow and
 * devices.deny lines, and for cgroup v2 an eBPF program compiled here by
 * hand (no libbpf), loaded and attached with bpf(2). See devices.h. */
#include "sandbox/devices.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#define ACCESS_ALL (DEVICE_READ | DEVICE_WRITE | DEVICE_MKNOD)

static bool rule_matches(const struct cell_device_rule *rule, char type, unsigned major, unsigned minor,
                         unsigned access)
{
    if (rule->type != 'a' && rule->type != type)
        return false;
    if (rule->major != -1 && rule->major != (int64_t)major)
        return false;
    if (rule->minor != -1 && rule->minor != (int64_t)minor)
        return false;
    if (rule->allow)
        return (access & ~rule->access) == 0;
    return (access & rule->access) != 0;
}

bool devices_allowed(const struct cell_device_rule *rules, size_t n, char type, unsigned major, unsigned minor,
                     unsigned access)
{
    for (size_t i = n; i-- > 0;)
        if (rule_matches(&rules[i], type, major, minor, access))
            return rules[i].allow;
    return false;
}

static bool device_number_ok(int64_t number)
{
    return number >= -1 && number <= INT32_MAX;
}

int devices_validate(const struct cell_device_rule *rules, size_t n, struct cell_err *err)
{
    if (n > DEVICES_MAX_RULES)
        return cell_err_set(err, 0, "%zu device rules: at most %d are supported (merge rules, e.g. with \"*\" numbers)",
                            n, DEVICES_MAX_RULES);
    for (size_t i = 0; i < n; i++) {
        const struct cell_device_rule *r = &rules[i];
        if (r->type != 'a' && r->type != 'c' && r->type != 'b')
            return cell_err_set(err, 0, "device rule %zu: type '%c' is not 'a', 'c' or 'b'", i, r->type);
        if (!device_number_ok(r->major) || !device_number_ok(r->minor))
            return cell_err_set(
                err, 0, "device rule %zu: %" PRId64 ":%" PRId64 " is out of range (numbers are 0..%d, or -1 for any)",
                i, r->major, r->minor, INT32_MAX);
        if (r->access == 0 || (r->access & ~(unsigned)ACCESS_ALL) != 0)
            return cell_err_set(err, 0, "device rule %zu: access %#x is not a non-empty set of r, w and m", i,
                                r->access);
    }
    return 0;
}

/* ---- cgroup v1 ------------------------------------------------------------ */

/* The kernel keeps a default (allow or deny everything) and a list of
 * exceptions to it. A line with the default's verdict does not add to the
 * list: it takes access back from the exception with exactly its type and
 * numbers, and from no other. So the lines are planned on a model of that
 * list first: a rule that takes back access from a narrower exception gets
 * one more line with that exception's numbers, and one that would have to
 * take back part of a wider exception (allow "c *:* rw", then deny
 * "c 1:3 w") is refused before anything is written. */
struct v1_exception {
    char type; /* 'c' or 'b' */
    int64_t major, minor;
    unsigned access;
};

struct v1_model {
    bool allow_default;
    size_t count;
    struct v1_exception list[2 * DEVICES_MAX_RULES]; /* each rule adds at most a 'c' and a 'b' one */
};

/* Where the lines go: nowhere while planning (dirfd < 0). */
struct v1_target {
    int dirfd;
    const char *dir;
    bool fake;
};

/* One kernel line: "c 1:3 rw\n", "b *:* m\n", or "a\n" for type 'a'. */
static void v1_line(char *buf, size_t len, const struct v1_exception *line)
{
    if (line->type == 'a') {
        snprintf(buf, len, "a\n");
        return;
    }
    char major[24] = "*", minor[24] = "*";
    if (line->major != -1)
        snprintf(major, sizeof major, "%" PRId64, line->major);
    if (line->minor != -1)
        snprintf(minor, sizeof minor, "%" PRId64, line->minor);
    snprintf(buf, len, "%c %s:%s %s%s%s\n", line->type, major, minor, line->access & DEVICE_READ ? "r" : "",
             line->access & DEVICE_WRITE ? "w" : "", line->access & DEVICE_MKNOD ? "m" : "");
}

/* Write one line to devices.allow or devices.deny in one write(); `rule`
 * is the rule's index for the message, or -1 for the initial "deny all". */
static int v1_write_line(const struct v1_target *to, bool allow, const struct v1_exception *line, ssize_t rule,
                         struct cell_err *err)
{
    if (to->dirfd < 0)
        return 0;
    const char *file = allow ? "devices.allow" : "devices.deny";
    char text[64], what[48] = "the initial deny-all";
    if (rule < 0)
        snprintf(text, sizeof text, "a *:* rwm\n");
    else
        v1_line(text, sizeof text, line);
    size_t len = strlen(text);
    if (rule >= 0)
        snprintf(what, sizeof what, "rule %zd", rule);
    int flags = to->fake ? O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC : O_WRONLY | O_CLOEXEC;
    cleanup_close int fd = openat(to->dirfd, file, flags, 0644);
    if (fd < 0)
        return cell_err_set(err, errno, "cgroup v1 devices: opening %s/%s to write \"%.*s\" (%s)", to->dir, file,
                            (int)len - 1, text, what);
    ssize_t n;
    do
        n = write(fd, text, len);
    while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n != len)
        return cell_err_set(err, n < 0 ? errno : EIO, "cgroup v1 devices: writing \"%.*s\" to %s/%s (%s)", (int)len - 1,
                            text, to->dir, file, what);
    return 0;
}

static bool numbers_overlap(int64_t a, int64_t b)
{
    return a == -1 || b == -1 || a == b;
}

static bool number_covers(int64_t wide, int64_t narrow)
{
    return wide == -1 || wide == narrow;
}

/* One line of rule `rule` (type 'c' or 'b', or 'a' for every device with
 * every access): write it and the extra lines it needs, and update the model. */
static int v1_apply_line(struct v1_model *model, const struct v1_target *to, bool allow,
                         const struct v1_exception *line, ssize_t rule, struct cell_err *err)
{
    if (line->type == 'a') {
        model->allow_default = allow;
        model->count = 0;
        return v1_write_line(to, allow, line, rule, err);
    }
    if (allow != model->allow_default) { /* an exception: merged with one of the same numbers, as the kernel does */
        size_t i = 0;
        while (i < model->count && !(model->list[i].type == line->type && model->list[i].major == line->major &&
                                     model->list[i].minor == line->minor))
            i++;
        if (i == model->count)
            model->list[model->count++] = (struct v1_exception){line->type, line->major, line->minor, 0};
        model->list[i].access |= line->access;
        return v1_write_line(to, allow, line, rule, err);
    }
    /* taking access back from the exceptions it overlaps */
    for (size_t i = 0; i < model->count;) {
        struct v1_exception *ex = &model->list[i];
        unsigned taken = ex->access & line->access;
        if (ex->type != line->type || !numbers_overlap(ex->major, line->major) ||
            !numbers_overlap(ex->minor, line->minor) || taken == 0) {
            i++;
            continue;
        }
        bool same = ex->major == line->major && ex->minor == line->minor;
        if (!same && !(number_covers(line->major, ex->major) && number_covers(line->minor, ex->minor))) {
            char wide[64], narrow[64];
            v1_line(wide, sizeof wide, ex);
            v1_line(narrow, sizeof narrow, line);
            return cell_err_set(err, 0,
                                "cgroup v1 devices: rule %zd (\"%.*s\") takes back part of an earlier \"%.*s\", "
                                "which the v1 devices controller cannot do: list what stays %s as rules of "
                                "their own instead",
                                rule, (int)strlen(narrow) - 1, narrow, (int)strlen(wide) - 1, wide,
                                allow ? "denied" : "allowed");
        }
        if (!same) {
            struct v1_exception exact = {ex->type, ex->major, ex->minor, taken};
            if (v1_write_line(to, allow, &exact, rule, err) < 0)
                return -1;
        }
        ex->access &= ~taken;
        if (ex->access == 0) {
            *ex = model->list[--model->count];
            continue;
        }
        i++;
    }
    return v1_write_line(to, allow, line, rule, err);
}

static int v1_apply(const struct v1_target *to, const struct cell_device_rule *rules, size_t n, struct cell_err *err)
{
    cleanup_free struct v1_model *model = calloc(1, sizeof *model);
    if (model == NULL)
        return cell_err_set(err, ENOMEM, "cgroup v1 devices: planning %zu rules", n);
    const struct v1_exception deny_all = {'a', -1, -1, ACCESS_ALL};
    if (v1_apply_line(model, to, false, &deny_all, -1, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct cell_device_rule *r = &rules[i];
        bool every = r->type == 'a' && r->major == -1 && r->minor == -1 && r->access == ACCESS_ALL;
        /* the kernel reads any line of type 'a' as every device with every access */
        const char *types = every ? "a" : r->type == 'a' ? "cb" : r->type == 'c' ? "c" : "b";
        for (const char *t = types; *t; t++) {
            struct v1_exception line = {*t, r->major, r->minor, r->access};
            if (v1_apply_line(model, to, r->allow, &line, (ssize_t)i, err) < 0)
                return -1;
        }
    }
    return 0;
}

static int v1_write(const char *dir, bool fake, const struct cell_device_rule *rules, size_t n, struct cell_err *err)
{
    if (devices_validate(rules, n, err) < 0)
        return -1;
    struct v1_target plan = {-1, dir, fake};
    if (v1_apply(&plan, rules, n, err) < 0)
        return -1;
    cleanup_close int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cell_err_set(err, errno, "cgroup v1 devices: opening %s", dir);
    struct v1_target write = {dirfd, dir, fake};
    return v1_apply(&write, rules, n, err);
}

int devices_v1_write(const char *dir, const struct cell_device_rule *rules, size_t n, struct cell_err *err)
{
    return v1_write(dir, false, rules, n, err);
}

int devices_v1_write_fake(const char *dir, const struct cell_device_rule *rules, size_t n, struct cell_err *err)
{
    return v1_write(dir, true, rules, n, err);
}

/* ---- cgroup v2: the eBPF program --------------------------------------------- */

/* The few instruction forms the program needs. */
#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LOAD_U32(dst, src, off) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JUMP_IMM(op, dst, imm) INSN(BPF_JMP | (op) | BPF_K, dst, 0, 0, imm) /* offset patched later */
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers while the rules are checked (R1, the context, becomes scratch). */
enum { REG_RET = BPF_REG_0, REG_SCRATCH = BPF_REG_1, REG_TYPE, REG_ACCESS, REG_MAJOR, REG_MINOR };

/* Instructions: 6 to load the request, at most 8 per rule, 2 to deny. */
#define PROGRAM_MAX_INSNS (6 + 8 * DEVICES_MAX_RULES + 2)

static int bpf_access(unsigned access)
{
    return (access & DEVICE_READ ? BPF_DEVCG_ACC_READ : 0) | (access & DEVICE_WRITE ? BPF_DEVCG_ACC_WRITE : 0) |
           (access & DEVICE_MKNOD ? BPF_DEVCG_ACC_MKNOD : 0);
}

/* Compile validated rules into insns (room for PROGRAM_MAX_INSNS); returns
 * the instruction count. The rules are checked last first: the first one
 * that matches returns its verdict, and when none does the program denies. */
static size_t compile_program(const struct cell_device_rule *rules, size_t n, struct bpf_insn *insns)
{
    size_t len = 0;
    insns[len++] = LOAD_U32(REG_TYPE, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
    insns[len++] = ALU32_IMM(BPF_AND, REG_TYPE, 0xffff);
    insns[len++] = LOAD_U32(REG_ACCESS, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
    insns[len++] = ALU32_IMM(BPF_RSH, REG_ACCESS, 16);
    insns[len++] = LOAD_U32(REG_MAJOR, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major));
    insns[len++] = LOAD_U32(REG_MINOR, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor));

    for (size_t i = n; i-- > 0;) {
        const struct cell_device_rule *r = &rules[i];
        size_t to_next[4], jumps = 0; /* the jumps to the next rule's block when this one does not match */
        if (r->type != 'a') {
            to_next[jumps++] = len;
            insns[len++] = JUMP_IMM(BPF_JNE, REG_TYPE, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
        }
        if (r->major != -1) {
            to_next[jumps++] = len;
            insns[len++] = JUMP_IMM(BPF_JNE, REG_MAJOR, (int32_t)r->major);
        }
        if (r->minor != -1) {
            to_next[jumps++] = len;
            insns[len++] = JUMP_IMM(BPF_JNE, REG_MINOR, (int32_t)r->minor);
        }
        int access = bpf_access(r->access);
        insns[len++] = MOV32_REG(REG_SCRATCH, REG_ACCESS);
        if (r->allow) {
            /* an allow rule grants every requested bit: (request & ~rule) == 0 */
            insns[len++] = ALU32_IMM(BPF_AND, REG_SCRATCH, ~access);
            to_next[jumps++] = len;
            insns[len++] = JUMP_IMM(BPF_JNE, REG_SCRATCH, 0);
        } else {
            /* a deny rule denies some requested bit: (request & rule) != 0 */
            insns[len++] = ALU32_IMM(BPF_AND, REG_SCRATCH, access);
            to_next[jumps++] = len;
            insns[len++] = JUMP_IMM(BPF_JEQ, REG_SCRATCH, 0);
        }
        insns[len++] = MOV64_IMM(REG_RET, r->allow ? 1 : 0);
        insns[len++] = EXIT();
        for (size_t j = 0; j < jumps; j++)
            insns[to_next[j]].off = (int16_t)(len - to_next[j] - 1);
    }
    insns[len++] = MOV64_IMM(REG_RET, 0);
    insns[len++] = EXIT();
    return len;
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* Load the program; with a log buffer, the verifier's log goes there. */
static int load_program(const struct bpf_insn *insns, size_t count, char *log, size_t log_size)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = (uint32_t)count;
    /* the program calls no helper, so the kernel needs no GPL-compatible license */
    attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
    snprintf(attr.prog_name, sizeof attr.prog_name, "cell_devices");
    if (log != NULL) {
        attr.log_level = 1;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = (uint32_t)log_size;
        log[0] = '\0';
    }
    int fd;
    int tries = 0;
    do /* the verifier returns EAGAIN when a signal interrupts it */
        fd = bpf_call(BPF_PROG_LOAD, &attr);
    while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 5);
    return fd;
}

/* The last whole lines of the verifier's log that fit in `len`, joined by "; ". */
static void log_tail(const char *log, char *out, size_t len)
{
    size_t end = strlen(log);
    while (end > 0 && log[end - 1] == '\n')
        end--;
    size_t start = end, room = len - 1;
    while (start > 0 && (log[start - 1] == '\n' ? 2 : 1) <= room)
        room -= log[--start] == '\n' ? 2 : 1;
    const char *newline = start > 0 && log[start - 1] != '\n' ? memchr(log + start, '\n', end - start) : NULL;
    if (newline != NULL) /* begin at a line, unless the last one alone is too long */
        start = (size_t)(newline + 1 - log);
    size_t k = 0;
    for (size_t i = start; i < end; i++) {
        if (log[i] == '\n') {
            out[k++] = ';';
            out[k++] = ' ';
        } else {
            out[k++] = log[i];
        }
    }
    out[k] = '\0';
}

int devices_bpf_attach(int cgroup_fd, const struct cell_device_rule *rules, size_t n, struct cell_err *err)
{
    if (devices_validate(rules, n, err) < 0)
        return -1;
    cleanup_free struct bpf_insn *insns = calloc(PROGRAM_MAX_INSNS, sizeof *insns);
    if (insns == NULL)
        return cell_err_set(err, ENOMEM, "cgroup v2 devices: compiling %zu rules", n);
    size_t count = compile_program(rules, n, insns);

    cleanup_close int prog_fd = load_program(insns, count, NULL, 0);
    if (prog_fd < 0) {
        int saved = errno;
        enum { LOG_SIZE = 1 << 16 };
        cleanup_free char *log = calloc(1, LOG_SIZE);
        char tail[320] = "";
        if (log != NULL) {
            int again = load_program(insns, count, log, LOG_SIZE); /* only for the verifier's log */
            if (again >= 0)
                close(again);
            log_tail(log, tail, sizeof tail);
        }
        if (saved == EPERM)
            return cell_err_set(err, saved,
                                "cgroup v2 devices: loading the device program (%zu instructions) needs "
                                "CAP_BPF or CAP_SYS_ADMIN (before Linux 5.11, also a high enough RLIMIT_MEMLOCK)%s%s",
                                count, tail[0] ? "; verifier: " : "", tail);
        return cell_err_set(err, saved,
                            "cgroup v2 devices: the kernel refused the device program (%zu instructions)%s%s", count,
                            tail[0] ? "; verifier: " : "", tail);
    }

    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf_call(BPF_PROG_ATTACH, &attr) < 0)
        return cell_err_set(err, errno,
                            "cgroup v2 devices: attaching the device program to the cgroup (fd %d; a program "
                            "attached above it without BPF_F_ALLOW_MULTI forbids more)",
                            cgroup_fd);
    return 0;
}
