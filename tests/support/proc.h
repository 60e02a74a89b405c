/* SPDX-License-Identifier: Apache-2.0 */
/* proc.h - spawn, watch and reap child processes for integration tests: a child's
 * stdout and stderr go to a log file that tests poll (with a deadline, never a
 * fixed sleep) for an expected line.
 *
 * Design note
 * - struct proc is a value type owned by the test. proc_kill() is safe to call in a
 *   teardown whatever state the child is in (never started, exited, running).
 * - Waiting is polling with a deadline (short naps between polls), so a test that
 *   expects an event fails after the deadline instead of hanging.
 * - Not thread-safe: one test thread owns each struct proc. */
#ifndef TESTS_SUPPORT_PROC_H
#define TESTS_SUPPORT_PROC_H

#include "common/cm.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc {
    pid_t pid;  /* 0: not running (never started or reaped) */
    int status; /* waitpid status once reaped */
    bool reaped;
    char log_path[512];
};

/* Starts argv[0] (a path) with argv, the current environment plus env (NULL or a
 * NULL-terminated list of "NAME=value"), stdin from /dev/null and stdout+stderr
 * appended to log_path. Returns 0, CM_EIO (fork/exec setup failed) or CM_EINVAL. */
CM_NODISCARD int proc_spawn(struct proc *p, char *const argv[], char *const env[],
                            const char *log_path);

/* Polls the log until a line contains needle; copies that line (without newline)
 * into line (may be NULL). Returns 0, CM_ETIMEDOUT, or CM_ECANCELED when the child
 * exited first. */
CM_NODISCARD int proc_wait_log(struct proc *p, const char *needle, int timeout_ms, char *line,
                               size_t cap);

/* Counts the log lines that contain needle (0 when the log cannot be read). */
size_t proc_log_count(const struct proc *p, const char *needle);

/* Sends sig. Returns 0 or CM_EINVAL when the child is not running. */
CM_NODISCARD int proc_signal(struct proc *p, int sig);

/* Waits for exit up to timeout_ms; *exit_code gets the exit status (128+signal when
 * killed). Returns 0 or CM_ETIMEDOUT. */
CM_NODISCARD int proc_wait_exit(struct proc *p, int timeout_ms, int *exit_code);

/* Teardown: SIGKILL when still running, then reap. NULL-safe. */
void proc_kill(struct proc *p);

/* Runs argv to completion (at most timeout_ms; killed after) with output appended to
 * log_path. Returns 0 with *exit_code, CM_ETIMEDOUT or CM_EIO. */
CM_NODISCARD int proc_run(char *const argv[], const char *log_path, int timeout_ms, int *exit_code);

/* Where proc_run2 puts what the child wrote: out and err are the caller's buffers,
 * each filled with at most cap - 1 bytes and NUL-terminated. */
struct proc_output {
    char *out;
    size_t out_cap;
    char *err;
    size_t err_cap;
    int exit_code; /* as proc_wait_exit; -1 when it did not exit */
};

/* Runs argv to completion (at most timeout_ms; killed after) with stdout and stderr
 * kept apart: written (truncated) to dir/out.txt and dir/err.txt, then read into o.
 * Returns 0 with o->exit_code, CM_ETIMEDOUT (the output so far is in o), CM_EIO or
 * CM_EINVAL (a NULL or zero-sized buffer). */
CM_NODISCARD int proc_run2(char *const argv[], const char *dir, int timeout_ms,
                           struct proc_output *o);

/* Sleeps ms milliseconds: only for pacing polls and load, never to wait for an event. */
void proc_nap_ms(int ms);

#endif /* TESTS_SUPPORT_PROC_H */
