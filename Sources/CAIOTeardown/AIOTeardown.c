#define _GNU_SOURCE
#include "CAIOTeardown.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef long (*syscall_function)(long, ...);

static _Atomic(syscall_function) next_syscall;
static atomic_int deferring;

/* The C library's syscall(2), found once. */
static syscall_function c_library_syscall(void) {
    syscall_function found = atomic_load_explicit(&next_syscall, memory_order_acquire);
    if (found == NULL) {
        found = (syscall_function)dlsym(RTLD_NEXT, "syscall");
        atomic_store_explicit(&next_syscall, found, memory_order_release);
    }
    return found;
}

static void *destroy_context(void *context) {
    syscall_function next = c_library_syscall();
    if (next != NULL) next(SYS_io_destroy, (long)(uintptr_t)context);
    return NULL;
}

void skiff_aio_teardown_defer(int enabled) { atomic_store(&deferring, enabled != 0); }

int skiff_aio_teardown_interposed(void) {
    /* The definition the dynamic linker gives to every library that calls syscall(2). */
    void *global = dlsym(RTLD_DEFAULT, "syscall");
    return global == (void *)&syscall;
}

/* Destroys an AIO context on a thread of its own, inline if no thread can be made. Returns 0,
 * or -1 with errno set. */
static long destroy_off_thread(unsigned long context) {
    pthread_attr_t attributes;
    pthread_t thread;
    int made = -1;
    if (pthread_attr_init(&attributes) == 0) {
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attributes, 64 * 1024);
        made = pthread_create(&thread, &attributes, destroy_context, (void *)(uintptr_t)context);
        pthread_attr_destroy(&attributes);
    }
    if (made == 0) return 0;
    syscall_function next = c_library_syscall();
    if (next == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return next(SYS_io_destroy, (long)context);
}

/* Replaces the C library's syscall(2) for the whole process (see the header). A system call
 * takes at most six arguments; reading six whatever the caller passed is what the C
 * library's own definition does. */
long syscall(long number, ...) {
    va_list arguments;
    va_start(arguments, number);
    long a = va_arg(arguments, long), b = va_arg(arguments, long), c = va_arg(arguments, long);
    long d = va_arg(arguments, long), e = va_arg(arguments, long), f = va_arg(arguments, long);
    va_end(arguments);
    if (number == SYS_io_destroy && atomic_load_explicit(&deferring, memory_order_relaxed)) {
        return destroy_off_thread((unsigned long)a);
    }
    syscall_function next = c_library_syscall();
    if (next == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return next(number, a, b, c, d, e, f);
}
