#ifndef REFEX_CLINUX_SHIM_H
#define REFEX_CLINUX_SHIM_H
// Linux system calls that Swift's Glibc module does not export: epoll, eventfd, accept4.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <signal.h>
#include <pthread.h>

// accept4 is declared only under _GNU_SOURCE, which Swift's Glibc module is built without.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
// Likewise pthread_setname_np (glibc 2.12+): the kernel's name for a thread, at most 15 bytes.
extern int pthread_setname_np(pthread_t thread, const char *name);

static const uint32_t refex_EPOLLIN = EPOLLIN;
static const uint32_t refex_EPOLLOUT = EPOLLOUT;
static const uint32_t refex_EPOLLERR = EPOLLERR;
static const uint32_t refex_EPOLLHUP = EPOLLHUP;
static const uint32_t refex_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t refex_EPOLLEXCLUSIVE = EPOLLEXCLUSIVE;

#endif
