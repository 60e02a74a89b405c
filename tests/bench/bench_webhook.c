/* SPDX-License-Identifier: Apache-2.0 */
/* bench_webhook.c - HTTPS load on the real `lockwarden webhook`: keep-alive
 * connections posting a captured 5.7 KB Deployment AdmissionReview (UPDATE, with
 * managedFields and last-applied-configuration) to /validate, judged against the
 * fixtures' policies (Enforce + Audit rules, BackupPolicies, the binding rules).
 *
 * Two runs per accept mode:
 * - fixed rate: LW_BENCH_RATE requests/s (default 1000) over 10 connections; latency
 *   is measured from when each request was due, so a stall is not hidden
 *   (coordinated omission);
 * - saturation: 32 connections, each sending its next request as soon as the answer
 *   arrives.
 * Prints requests/s, p50/p99/p99.9 latency and the server's peak RSS (VmHWM). The load
 * generator is one epoll thread with non-blocking OpenSSL on the same machine.
 * LW_BENCH_SECONDS (default 5) sets each run's length. Not a test: it prints figures. */
#define _GNU_SOURCE /* epoll_pwait2 */
#include "tests/support/proc.h"
#include "tests/support/wh_env.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 64
#define RECV_CAP (64 * 1024)
#define MAX_SAMPLES (4u << 20)

enum cstate { C_IDLE = 0, C_SENDING, C_READING };

struct conn {
    int fd;
    SSL *ssl;
    enum cstate st;
    size_t sent;
    uint64_t t0; /* when this request was due (fixed rate) or sent (saturation) */
    char *rbuf;
    size_t rlen;
};

struct run {
    SSL_CTX *ctx;
    uint16_t port;
    const char *req; /* the whole HTTP request */
    size_t req_len;
    struct conn conns[MAX_CONNS];
    size_t n_conns;
    uint32_t *lat_us; /* samples */
    size_t n_lat;
    unsigned long errors;
    unsigned long non200;
};

static uint64_t now_ns(void)
{
    return cm_time_mono_ns();
}

static int conn_open(struct run *r, struct conn *c)
{
    struct sockaddr_in a;
    int one = 1;

    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(r->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        return -1;
    c->ssl = SSL_new(r->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
        return -1;
    SSL_set1_host(c->ssl, "localhost");
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) /* blocking handshake before the clock starts */
        return -1;
    c->rbuf = malloc(RECV_CAP);
    if (c->rbuf == NULL)
        return -1;
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0)
        return -1;
    c->st = C_IDLE;
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    if (c->fd > 0)
        close(c->fd);
    free(c->rbuf);
    memset(c, 0, sizeof(*c));
}

/* Pushes the request: 1 when fully sent, 0 when the socket is full, -1 on error. */
static int conn_send(struct run *r, struct conn *c)
{
    while (c->sent < r->req_len) {
        int n = SSL_write(c->ssl, r->req + c->sent, (int)(r->req_len - c->sent));

        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        n = SSL_get_error(c->ssl, n);
        if (n == SSL_ERROR_WANT_WRITE || n == SSL_ERROR_WANT_READ)
            return 0;
        return -1;
    }
    c->st = C_READING;
    c->rlen = 0;
    return 1;
}

/* Reads what is there: 1 when a whole response is in (*status set), 0 for more, -1 on
 * error. */
static int conn_recv(struct conn *c, int *status)
{
    for (;;) {
        const char *hend;
        int n;

        if (c->rlen + 1 >= RECV_CAP)
            return -1;
        n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(RECV_CAP - 1 - c->rlen));
        if (n <= 0) {
            n = SSL_get_error(c->ssl, n);
            if (n == SSL_ERROR_WANT_READ || n == SSL_ERROR_WANT_WRITE)
                return 0;
            return -1;
        }
        c->rlen += (size_t)n;
        c->rbuf[c->rlen] = '\0';
        hend = strstr(c->rbuf, "\r\n\r\n");
        if (hend != NULL) {
            const char *cl = strstr(c->rbuf, "Content-Length: ");
            uint64_t len = 0;

            if (cl == NULL || cl > hend || cm_parse_u64(cl + 16, strcspn(cl + 16, "\r"), &len) != 0)
                return -1;
            if (c->rlen >= (size_t)(hend + 4 - c->rbuf) + len) {
                *status = (int)strtol(c->rbuf + 9, NULL, 10);
                return 1;
            }
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static void record(struct run *r, uint64_t t0, int status)
{
    uint64_t us = (now_ns() - t0) / 1000u;

    if (status != 200)
        r->non200++;
    if (r->n_lat < MAX_SAMPLES)
        r->lat_us[r->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Advances one connection as far as it goes without blocking. */
static void pump(struct run *r, struct conn *c)
{
    int status = 0;
    int rc;

    if (c->st == C_SENDING && conn_send(r, c) < 0) {
        r->errors++;
        c->st = C_IDLE;
        return;
    }
    if (c->st != C_READING)
        return;
    rc = conn_recv(c, &status);
    if (rc < 0) {
        r->errors++;
        c->st = C_IDLE;
    } else if (rc == 1) {
        record(r, c->t0, status);
        c->st = C_IDLE;
    }
}

/* Runs for seconds over conns connections; rate 0 = saturation. */
static void drive(struct run *r, size_t conns, double rate, double seconds, double *rps)
{
    struct epoll_event evs[MAX_CONNS];
    int ep = epoll_create1(0);
    uint64_t interval = rate > 0 ? (uint64_t)(1e9 / rate) : 0;
    const size_t q_cap = 1u << 20;
    uint64_t *queue = malloc(q_cap * sizeof(*queue)); /* due times not yet sent */
    size_t q_head = 0;
    size_t q_tail = 0;
    uint64_t start;
    uint64_t end;
    uint64_t next_due;
    size_t i;

    r->n_lat = 0;
    r->errors = 0;
    r->non200 = 0;
    for (i = 0; i < conns; i++) {
        struct epoll_event ev;

        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
        ev.data.u64 = i;
        (void)epoll_ctl(ep, EPOLL_CTL_ADD, r->conns[i].fd, &ev);
    }
    start = now_ns();
    end = start + (uint64_t)(seconds * 1e9);
    next_due = start;
    while (queue != NULL && now_ns() < end) {
        uint64_t t = now_ns();
        int n;

        if (rate > 0) {
            while (next_due <= t && q_tail - q_head < q_cap) {
                queue[q_tail++ % q_cap] = next_due;
                next_due += interval;
            }
        }
        for (i = 0; i < conns; i++) {
            struct conn *c = &r->conns[i];

            if (c->st != C_IDLE)
                continue;
            if (rate > 0) {
                if (q_head == q_tail)
                    break;
                c->t0 = queue[q_head++ % q_cap];
            } else {
                c->t0 = now_ns();
            }
            c->st = C_SENDING;
            c->sent = 0;
            pump(r, c);
        }
        {
            /* Sleep exactly until the next request is due: a 1 ms epoll timeout would
             * add up to a millisecond to every latency measured from the due time. */
            uint64_t wait_ns = 10000000u;
            struct timespec ts;

            if (rate > 0) {
                uint64_t now = now_ns();

                wait_ns = q_head != q_tail ? 0 : next_due > now ? next_due - now : 0;
            }
            ts.tv_sec = (time_t)(wait_ns / 1000000000u);
            ts.tv_nsec = (long)(wait_ns % 1000000000u);
            n = epoll_pwait2(ep, evs, MAX_CONNS, &ts, NULL);
        }
        for (i = 0; i < (size_t)(n > 0 ? n : 0); i++)
            pump(r, &r->conns[evs[i].data.u64]);
    }
    *rps = (double)r->n_lat / seconds;
    /* Let in-flight requests finish so the next run starts clean. */
    end = now_ns() + 2000000000ull;
    for (i = 0; i < conns; i++) {
        while (r->conns[i].st != C_IDLE && now_ns() < end) {
            pump(r, &r->conns[i]);
            if (r->conns[i].st != C_IDLE)
                proc_nap_ms(1);
        }
    }
    free(queue);
    close(ep);
}

static long peak_rss_kb(pid_t pid)
{
    char path[64];
    char line[256];
    FILE *f;
    long kb = -1;

    (void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    return kb;
}

/* The server's CPU time so far (user + system), in microseconds. */
static double cpu_us(pid_t pid)
{
    char path[64];
    char buf[1024];
    FILE *f;
    unsigned long ut = 0;
    unsigned long st = 0;
    char *p;
    int field;

    (void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fgets(buf, sizeof(buf), f) == NULL) {
        fclose(f);
        return 0;
    }
    fclose(f);
    /* Fields after the command name (which may hold spaces): state is field 3. */
    p = strrchr(buf, ')');
    for (field = 2; p != NULL && *p != '\0' && field < 15; p++) {
        if (*p == ' ') {
            field++;
            if (field == 14)
                ut = strtoul(p + 1, NULL, 10);
            else if (field == 15)
                st = strtoul(p + 1, NULL, 10);
        }
    }
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

#define MAX_TASKS 64

/* CPU ticks of each thread of pid (by task id), to see how work spreads over workers. */
struct task_ticks {
    long tid[MAX_TASKS];
    unsigned long ticks[MAX_TASKS];
    size_t n;
};

static void task_ticks_read(pid_t pid, struct task_ticks *t)
{
    char path[64];
    DIR *d;
    struct dirent *de;

    t->n = 0;
    (void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    d = opendir(path);
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL && t->n < MAX_TASKS) {
        char sp[400];
        char buf[1024];
        FILE *f;
        const char *p;
        int field = 2;
        unsigned long ut = 0;
        unsigned long st = 0;

        if (de->d_name[0] == '.')
            continue;
        (void)snprintf(sp, sizeof(sp), "%s/%s/stat", path, de->d_name);
        f = fopen(sp, "r");
        if (f == NULL)
            continue;
        if (fgets(buf, sizeof(buf), f) != NULL) {
            for (p = strrchr(buf, ')'); p != NULL && *p != '\0' && field < 15; p++) {
                if (*p == ' ') {
                    field++;
                    if (field == 14)
                        ut = strtoul(p + 1, NULL, 10);
                    else if (field == 15)
                        st = strtoul(p + 1, NULL, 10);
                }
            }
            t->tid[t->n] = strtol(de->d_name, NULL, 10);
            t->ticks[t->n] = ut + st;
            t->n++;
        }
        fclose(f);
    }
    closedir(d);
}

/* The busiest thread's share of the CPU used between a and b, in percent. */
static double busiest_share(const struct task_ticks *a, const struct task_ticks *b)
{
    unsigned long total = 0;
    unsigned long top = 0;
    size_t i;
    size_t j;

    for (i = 0; i < b->n; i++) {
        unsigned long before = 0;
        unsigned long d;

        for (j = 0; j < a->n; j++) {
            if (a->tid[j] == b->tid[i])
                before = a->ticks[j];
        }
        d = b->ticks[i] - before;
        total += d;
        if (d > top)
            top = d;
    }
    return total > 0 ? 100.0 * (double)top / (double)total : 0.0;
}

static void report(const char *mode, const char *what, struct run *r, double rps, pid_t pid,
                   double cpu)
{
    double p50 = 0;
    double p99 = 0;
    double p999 = 0;

    if (r->n_lat > 0) {
        qsort(r->lat_us, r->n_lat, sizeof(r->lat_us[0]), cmp_u32);
        p50 = r->lat_us[r->n_lat * 50 / 100] / 1000.0;
        p99 = r->lat_us[r->n_lat * 99 / 100] / 1000.0;
        p999 = r->lat_us[r->n_lat * 999 / 1000] / 1000.0;
    }
    printf("%-10s %-26s %8.0f req/s  p50 %6.3f ms  p99 %6.3f ms  p99.9 %6.3f ms  "
           "peak RSS %5.1f MiB  server CPU %5.1f us/req  (%zu answers, %lu non-200, "
           "%lu errors)\n",
           mode, what, rps, p50, p99, p999, (double)peak_rss_kb(pid) / 1024.0,
           r->n_lat > 0 ? cpu / (double)r->n_lat : 0.0, r->n_lat, r->non200, r->errors);
    fflush(stdout);
}

static int open_conns(struct run *r, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (conn_open(r, &r->conns[i]) != 0)
            return -1;
    }
    return 0;
}

static void close_conns(struct run *r)
{
    size_t i;

    for (i = 0; i < MAX_CONNS; i++) {
        if (r->conns[i].ssl != NULL || r->conns[i].rbuf != NULL)
            conn_close(&r->conns[i]);
    }
}

static int bench_mode(struct run *r, const char *mode, double rate, double seconds)
{
    const char *const extra[] = {"--accept-mode", mode, "--threads", "2", NULL};
    static const unsigned char alpn[] = "\x08http/1.1";
    struct wht_env env;
    char what[64];
    double rps = 0;
    double cpu;
    struct task_ticks t0;
    struct task_ticks t1;
    int code = -1;
    int rc = 0;

    if (wht_env_setup(&env, NULL) != 0 || wht_env_start(&env, extra) != 0) {
        fprintf(stderr, "bench_webhook: the webhook did not start (%s)\n", env.log);
        wht_env_teardown(&env);
        return 1;
    }
    r->ctx = SSL_CTX_new(TLS_client_method());
    if (r->ctx == NULL || SSL_CTX_load_verify_locations(r->ctx, env.ca, NULL) != 1) {
        rc = 1;
        goto out;
    }
    SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
    (void)SSL_CTX_set_alpn_protos(r->ctx, alpn, sizeof(alpn) - 1);
    r->port = env.port;

    if (open_conns(r, 10) != 0) {
        rc = 1;
        goto out;
    }
    drive(r, 10, rate / 5, 1.0, &rps); /* warm-up */
    cpu = cpu_us(env.proc.pid);
    drive(r, 10, rate, seconds, &rps);
    cpu = cpu_us(env.proc.pid) - cpu;
    (void)snprintf(what, sizeof(what), "fixed %.0f req/s, 10 conns", rate);
    report(mode, what, r, rps, env.proc.pid, cpu);
    close_conns(r);

    if (open_conns(r, 32) != 0) {
        rc = 1;
        goto out;
    }
    drive(r, 32, 0, 1.0, &rps); /* warm-up */
    cpu = cpu_us(env.proc.pid);
    task_ticks_read(env.proc.pid, &t0);
    drive(r, 32, 0, seconds, &rps);
    task_ticks_read(env.proc.pid, &t1);
    cpu = cpu_us(env.proc.pid) - cpu;
    report(mode, "saturation, 32 conns", r, rps, env.proc.pid, cpu);
    printf("%-10s   busiest server thread did %.0f%% of the work (50%% = evenly spread)\n", mode,
           busiest_share(&t0, &t1));
out:
    close_conns(r);
    SSL_CTX_free(r->ctx);
    r->ctx = NULL;
    if (wht_env_stop(&env, 15000, &code) != 0 || code != 0) {
        fprintf(stderr, "bench_webhook: the webhook did not stop cleanly\n");
        rc = 1;
    }
    wht_env_teardown(&env);
    return rc;
}

int main(void)
{
    struct run r;
    char *body = NULL;
    size_t len = 0;
    char *req;
    int n;
    int rc = 0;
    double seconds = 5;
    double rate = 1000;
    const char *s = getenv("LW_BENCH_SECONDS");
    const char *rt = getenv("LW_BENCH_RATE");

    if (s != NULL && cm_parse_double(s, strlen(s), &seconds) != 0)
        seconds = 5;
    if (rt != NULL && cm_parse_double(rt, strlen(rt), &rate) != 0)
        rate = 1000;
    (void)signal(SIGPIPE, SIG_IGN);
    memset(&r, 0, sizeof(r));
    if (wht_fixture("validate-deployment-update-web-ok.json", &body, &len) != 0) {
        fprintf(stderr, "bench_webhook: fixture missing (run from the repository root)\n");
        return 1;
    }
    req = malloc(len + 512);
    r.lat_us = malloc(MAX_SAMPLES * sizeof(*r.lat_us));
    if (req == NULL || r.lat_us == NULL)
        return 1;
    n = snprintf(req, 512,
                 "POST /validate?timeout=5s HTTP/1.1\r\nHost: localhost\r\n"
                 "User-Agent: kube-apiserver-admission\r\nContent-Type: application/json\r\n"
                 "Accept: application/json, */*\r\nAccept-Encoding: gzip\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 len);
    memcpy(req + n, body, len);
    r.req = req;
    r.req_len = (size_t)n + len;
    printf("webhook: POST /validate, %zu-byte Deployment UPDATE review, TLS keep-alive, "
           "%.0f s per run, 2 server threads, load generator: 1 epoll thread\n",
           len, seconds);
    rc |= bench_mode(&r, "pool", rate, seconds);
    rc |= bench_mode(&r, "reuseport", rate, seconds);
    free(r.lat_us);
    free(req);
    cm_free(body);
    return rc;
}
