// What the Swift Glibc overlay does not export (variadic prctl, eventfd, accept4, addclosefrom), wrapped with
// prototypes and constants from the system headers, so Swift code never needs dlsym or magic numbers.
#ifndef SYSTEM_SHIMS_H
#define SYSTEM_SHIMS_H

#include <spawn.h>
#include <stddef.h>

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process, not to PID 1.
int shim_set_child_subreaper(void);

/// prctl(PR_SET_PDEATHSIG, sig): the kernel sends `sig` when the spawning thread's process dies.
int shim_set_parent_death_signal(int sig);

/// prctl(PR_SET_NAME, name): names the calling thread (the kernel keeps its first 15 bytes) for top -H and ps -L.
int shim_set_thread_name(const char *name);

/// syncfs(fd): writes out the whole filesystem holding `fd` (a GNU extension the Glibc overlay lacks).
int shim_syncfs(int fd);

/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK): one fd that poll(2) sees readable once it is signalled.
int shim_eventfd(void);

/// Adds one to an eventfd's counter, making it readable for every poller.
int shim_eventfd_signal(int fd);

/// accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK).
int shim_accept_cloexec_nonblock(int fd);

/// posix_spawn_file_actions_addclosefrom_np (glibc >= 2.34): the child inherits no fd >= `lowest`.
int shim_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

/// memmem(3) (a GNU extension the overlay leaves out): whether `needle` occurs in `haystack`.
int shim_contains(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

#endif
