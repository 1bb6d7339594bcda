/* tty.c - `--tty`: a pseudo-terminal for the cell, relayed to the caller's
 * terminal (raw mode while the cell runs, window size kept in step). The
 * terminal is opened inside the cell, on the cell's own devpts, so the
 * workload sees a /dev/pts/N that exists; its master end is passed to
 * `cell run` over a socket (as OCI runtimes do with a console socket). */
#include "sandbox/sandbox.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <termios.h>

static struct termios saved_termios;

int tty_socket(struct tty_relay *tty, struct cell_err *err)
{
    int sv[2];
    tty->master = -1;
    tty->stdin_raw = false;
    tty->stdin_eof = false;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return cell_err_set(err, errno, "tty: create the terminal socket");
    tty->parent_sock = sv[0];
    tty->child_sock = sv[1];
    return 0;
}

int tty_prepare(struct tty_relay *tty, struct cell_err *err)
{
    if (tty_socket(tty, err) < 0)
        return -1;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
        struct termios raw = saved_termios;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
            tty->stdin_raw = true;
    }
    return 0;
}

int tty_open_in_cell(int sock, int *slave, struct cell_err *err)
{
    cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[64];
    if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
        return cell_err_set(err, errno, "tty: open /dev/ptmx in the cell");
    *slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*slave < 0)
        return cell_err_set(err, errno, "tty: open %s", name);
    if (send_with_fds(sock, "t", 1, &master, 1) < 0)
        return cell_err_set(err, errno, "tty: pass the terminal to cell run");
    return 0;
}

int tty_receive_master(struct tty_relay *tty)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t n;
    do
        n = recvmsg(tty->parent_sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (c == NULL || c->cmsg_type != SCM_RIGHTS)
        return -1; /* init failed first; its report says why */
    memcpy(&tty->master, CMSG_DATA(c), sizeof(int));
    tty_copy_winsize(tty);
    return 0;
}

void tty_copy_winsize(const struct tty_relay *tty)
{
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        ioctl(tty->master, TIOCSWINSZ, &ws);
}

static int pump(int from, int to)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0)
        return -1;
    return write_all(to, buf, (size_t)n);
}

int tty_pump_master(struct tty_relay *tty)
{
    return pump(tty->master, STDOUT_FILENO);
}

int tty_pump_stdin(struct tty_relay *tty)
{
    if (pump(STDIN_FILENO, tty->master) < 0) {
        tty->stdin_eof = true;
        return -1;
    }
    return 0;
}

void tty_restore(struct tty_relay *tty)
{
    if (tty->stdin_raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    tty->stdin_raw = false;
    if (tty->master >= 0)
        close(tty->master);
    if (tty->parent_sock >= 0)
        close(tty->parent_sock);
    if (tty->child_sock >= 0)
        close(tty->child_sock);
    tty->master = tty->parent_sock = tty->child_sock = -1;
}

void cell_tty_relay(int master)
{
    struct tty_relay tty = {.master = master, .parent_sock = -1, .child_sock = -1};
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
        struct termios raw = saved_termios;
        cfmakeraw(&raw);
        tty.stdin_raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    tty_copy_winsize(&tty);
    for (;;) {
        struct pollfd p[2] = {{.fd = master, .events = POLLIN},
                              {.fd = tty.stdin_eof ? -1 : STDIN_FILENO, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents && tty_pump_master(&tty) < 0)
            break; /* EIO: the command and everything it left holding the terminal are gone */
        if (p[1].revents)
            tty_pump_stdin(&tty);
    }
    tty.master = -1; /* the caller's to close */
    tty_restore(&tty);
}
