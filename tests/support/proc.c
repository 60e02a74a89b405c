/* SPDX-License-Identifier: Apache-2.0 */
/* proc.c - child processes for integration tests (spawn, log polling, reaping). */
#include "tests/support/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void proc_nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t now_ms(void)
{
    return (int64_t)(cm_time_mono_ns() / 1000000u);
}

/* Starts argv with stdout to log_path and stderr to err_path (NULL: log_path too);
 * oflags is O_APPEND or O_TRUNC. */
static int spawn(struct proc *p, char *const argv[], char *const env[], const char *log_path,
                 const char *err_path, int oflags)
{
    pid_t pid;
    int fd, efd;

    memset(p, 0, sizeof(*p));
    if (argv == NULL || argv[0] == NULL || log_path == NULL)
        return CM_EINVAL;
    (void)snprintf(p->log_path, sizeof(p->log_path), "%s", log_path);
    fd = open(log_path, O_WRONLY | O_CREAT | oflags | O_CLOEXEC, 0644);
    if (fd < 0)
        return CM_EIO;
    efd = err_path != NULL ? open(err_path, O_WRONLY | O_CREAT | oflags | O_CLOEXEC, 0644) : fd;
    if (efd < 0) {
        close(fd);
        return CM_EIO;
    }
    pid = fork();
    if (pid < 0) {
        close(fd);
        if (efd != fd)
            close(efd);
        return CM_EIO;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        size_t i;
        sigset_t none;

        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        if (devnull >= 0)
            (void)dup2(devnull, 0);
        (void)dup2(fd, 1);
        (void)dup2(efd, 2);
        for (i = 0; env != NULL && env[i] != NULL; i++) {
            char kv[4096];
            char *eq;

            (void)snprintf(kv, sizeof(kv), "%s", env[i]);
            eq = strchr(kv, '=');
            if (eq == NULL)
                continue;
            *eq = '\0';
            (void)setenv(kv, eq + 1, 1);
        }
        execve(argv[0], argv, environ);
        _exit(127);
    }
    close(fd);
    if (efd != fd)
        close(efd);
    p->pid = pid;
    return 0;
}

int proc_spawn(struct proc *p, char *const argv[], char *const env[], const char *log_path)
{
    return spawn(p, argv, env, log_path, NULL, O_APPEND);
}

static bool try_reap(struct proc *p)
{
    int st;
    pid_t r;

    if (p->pid == 0)
        return true;
    r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
        p->status = st;
        p->reaped = true;
        p->pid = 0;
        return true;
    }
    return false;
}

/* Scans the log for needle; copies the first matching line. */
static bool log_find(const char *path, const char *needle, char *line, size_t cap, size_t *count)
{
    FILE *f = fopen(path, "r");
    char buf[16384];
    bool found = false;

    if (count != NULL)
        *count = 0;
    if (f == NULL)
        return false;
    while (fgets(buf, sizeof(buf), f) != NULL) {
        if (strstr(buf, needle) == NULL)
            continue;
        if (count != NULL)
            (*count)++;
        if (!found && line != NULL && cap > 0) {
            size_t n = strcspn(buf, "\n");

            (void)snprintf(line, cap, "%.*s", (int)n, buf);
        }
        found = true;
        if (count == NULL)
            break;
    }
    fclose(f);
    return found;
}

int proc_wait_log(struct proc *p, const char *needle, int timeout_ms, char *line, size_t cap)
{
    int64_t deadline = now_ms() + timeout_ms;

    for (;;) {
        if (log_find(p->log_path, needle, line, cap, NULL))
            return 0;
        if (try_reap(p) && p->reaped)
            return log_find(p->log_path, needle, line, cap, NULL) ? 0 : CM_ECANCELED;
        if (now_ms() > deadline)
            return CM_ETIMEDOUT;
        proc_nap_ms(10);
    }
}

size_t proc_log_count(const struct proc *p, const char *needle)
{
    size_t n = 0;

    (void)log_find(p->log_path, needle, NULL, 0, &n);
    return n;
}

int proc_signal(struct proc *p, int sig)
{
    if (p->pid <= 0)
        return CM_EINVAL;
    return kill(p->pid, sig) == 0 ? 0 : CM_EINVAL;
}

static int exit_code_of(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

int proc_wait_exit(struct proc *p, int timeout_ms, int *exit_code)
{
    int64_t deadline = now_ms() + timeout_ms;

    for (;;) {
        if (try_reap(p)) {
            if (exit_code != NULL)
                *exit_code = p->reaped ? exit_code_of(p->status) : -1;
            return 0;
        }
        if (now_ms() > deadline)
            return CM_ETIMEDOUT;
        proc_nap_ms(5);
    }
}

void proc_kill(struct proc *p)
{
    if (p == NULL || p->pid <= 0)
        return;
    if (!try_reap(p)) {
        (void)kill(p->pid, SIGKILL);
        while (!try_reap(p))
            proc_nap_ms(2);
    }
}

int proc_run(char *const argv[], const char *log_path, int timeout_ms, int *exit_code)
{
    struct proc p;
    int rc = proc_spawn(&p, argv, NULL, log_path);

    if (rc != 0)
        return rc;
    rc = proc_wait_exit(&p, timeout_ms, exit_code);
    if (rc != 0)
        proc_kill(&p);
    return rc;
}

/* Reads up to cap - 1 bytes of path into buf, NUL-terminated ("" when unreadable). */
static void read_into(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;

    if (f != NULL) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

int proc_run2(char *const argv[], const char *dir, int timeout_ms, struct proc_output *o)
{
    char outp[600], errp[600];
    struct proc p;
    int rc;

    if (dir == NULL || o == NULL || o->out == NULL || o->err == NULL || o->out_cap == 0 ||
        o->err_cap == 0)
        return CM_EINVAL;
    o->out[0] = o->err[0] = '\0';
    o->exit_code = -1;
    (void)snprintf(outp, sizeof(outp), "%s/out.txt", dir);
    (void)snprintf(errp, sizeof(errp), "%s/err.txt", dir);
    rc = spawn(&p, argv, NULL, outp, errp, O_TRUNC);
    if (rc != 0)
        return rc;
    rc = proc_wait_exit(&p, timeout_ms, &o->exit_code);
    if (rc != 0)
        proc_kill(&p);
    read_into(outp, o->out, o->out_cap);
    read_into(errp, o->err, o->err_cap);
    return rc;
}
