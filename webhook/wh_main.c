/* SPDX-License-Identifier: Apache-2.0 */
/* wh_main.c - `lockwarden webhook`: configuration, signals, serve until told to stop. */
#include "webhook/wh.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
