/* SPDX-License-Identifier: Apache-2.0 */
/* wh_main.c - `lockwarden webhook`: configuration, signals, serve until told to stop. */
#include "webhook/wh.h"

#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc keeps 7 freed chunks per size in its per-thread cache. One request frees a few
 * hundred cJSON nodes, the rest go to the fastbins, and the next large allocation
 * (GnuTLS record buffers) consolidates them all: measured at a third of the server's
 * CPU. A deeper cache (glibc.malloc.tcache_count) removes that, but glibc reads its
 * tunables only at process start, so the webhook re-executes itself once with the
 * tunable added. LW_MALLOC_TUNING=0 turns this off; an existing tcache_count setting
 * is respected. On any failure it simply carries on untuned. */
static void tune_malloc(int argc, char **argv)
{
    const char *tun = getenv("GLIBC_TUNABLES");
    const char *off = getenv("LW_MALLOC_TUNING");
    char value[1024];
    char *args[256];
    int i;
    int n;

    if ((off != NULL && strcmp(off, "0") == 0) || getenv("LW_MALLOC_TUNED") != NULL ||
        (tun != NULL && strstr(tun, "tcache_count") != NULL) || argc + 2 > (int)CM_ARRAY_LEN(args))
        return;
    n = snprintf(value, sizeof(value), "%s%sglibc.malloc.tcache_count=2000", tun != NULL ? tun : "",
                 tun != NULL && tun[0] != '\0' ? ":" : "");
    if (n < 0 || (size_t)n >= sizeof(value))
        return;
    if (setenv("GLIBC_TUNABLES", value, 1) != 0 || setenv("LW_MALLOC_TUNED", "1", 1) != 0)
        return;
    args[0] = "lockwarden";
    for (i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    args[argc + 1] = NULL;
    execv("/proc/self/exe", args);
    /* Still here: run untuned. */
}

/* Each connection is a descriptor: raise the soft limit towards the hard one so that
 * --max-connections (default 1024) is not cut short by a default soft limit of 1024. */
static void raise_fd_limit(unsigned max_connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_connections + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        cm_log(CM_LOG_WARN, "webhook", "cannot raise the open-file limit",
               CM_LI("max_connections", max_connections));
}

static const char *env_get(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

int wh_main(int argc, char **argv)
{
    struct wh_config cfg;
    struct wh_server *srv = NULL;
    struct cm_err err;
    sigset_t set;
    int rc;

    tune_malloc(argc, argv);
    wh_config_init(&cfg);
    rc = wh_config_parse(&cfg, argc, argv, env_get, NULL, &err);
    if (rc == CM_ECANCELED) {
        fputs(wh_config_usage(), stdout);
        return 0;
    }
    if (rc != 0) {
        cm_log(CM_LOG_ERROR, "webhook", "bad configuration", CM_LS("err", err.msg));
        fprintf(stderr, "lockwarden webhook: %s (see --help)\n", err.msg);
        return 2;
    }
    cm_log_set_level(cfg.log_level);
    raise_fd_limit(cfg.max_connections);

    /* Block the signals before any thread starts, so every thread inherits the mask
     * and only this one receives them, synchronously, through sigwait. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
        cm_log(CM_LOG_ERROR, "webhook", "cannot block signals");
        return 2;
    }
    rc = wh_server_create(&cfg, &srv, &err);
    if (rc != 0) {
        cm_log(CM_LOG_ERROR, "webhook", "cannot start", CM_LS("err", err.msg),
               CM_LS("code", cm_errname(rc)));
        return 2;
    }
    cm_log(CM_LOG_INFO, "webhook", "listening", CM_LS("host", cfg.listen_host),
           CM_LI("port", wh_server_port(srv)), CM_LI("threads", cfg.threads),
           CM_LS("accept_mode", cfg.accept_mode == WH_ACCEPT_POOL ? "pool" : "reuseport"));
    sigdelset(&set, SIGPIPE);
    for (;;) {
        int sig = 0;

        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            cm_log(CM_LOG_INFO, "webhook", "SIGHUP: reloading policies");
            wh_server_reload(srv);
            continue;
        }
        cm_log(CM_LOG_INFO, "webhook", "stopping: finishing in-flight requests",
               CM_LS("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        break;
    }
    wh_server_destroy(srv);
    cm_log(CM_LOG_INFO, "webhook", "stopped");
    return 0;
}
