/* Linux calls Glibc's Swift module does not expose: epoll, eventfd and accept4. */
#ifndef AFTERSALE_C_SYSTEM_SHIMS_H
#define AFTERSALE_C_SYSTEM_SHIMS_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/* accept4(2), declared only under _GNU_SOURCE. */
int aftersale_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

#endif
