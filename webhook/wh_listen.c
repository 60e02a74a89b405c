/* SPDX-License-Identifier: Apache-2.0 */
/* wh_listen.c - the listening sockets, made here so that the webhook knows its port
 * (port 0 picks one) and can open one SO_REUSEPORT socket per worker. */
#define _GNU_SOURCE /* SO_REUSEPORT, SOCK_CLOEXEC */
#include "webhook/wh_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int wh_listen_open(const struct wh_config *c, uint16_t port, bool reuseport, int *out,
                   struct cm_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1;
    int fd;
    char eb[128];

    memset(&ss, 0, sizeof(ss));
    if (strchr(c->listen_host, ':') != NULL) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, c->listen_host, &a6->sin6_addr) != 1)
            return cm_err_set(err, CM_EINVAL, "--listen: '%s' is not an IPv6 address",
                              c->listen_host);
        sl = sizeof(*a6);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        if (strcmp(c->listen_host, "localhost") == 0)
            a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else if (inet_pton(AF_INET, c->listen_host, &a4->sin_addr) != 1)
            return cm_err_set(err, CM_EINVAL, "--listen: '%s' is not an IP address",
                              c->listen_host);
        sl = sizeof(*a4);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return cm_err_set(err, CM_EIO, "socket: %s", cm_errno_str(errno, eb, sizeof(eb)));
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        close(fd);
        return cm_err_set(err, CM_EIO, "SO_REUSEPORT: %s", cm_errno_str(errno, eb, sizeof(eb)));
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0) {
        int e = errno;

        close(fd);
        return cm_err_set(err, CM_EIO, "cannot listen on %s:%u: %s", c->listen_host, port,
                          cm_errno_str(e, eb, sizeof(eb)));
    }
    *out = fd;
    return 0;
}

uint16_t wh_listen_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}
