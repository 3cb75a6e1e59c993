#ifndef SKIFF_CAIOTEARDOWN_H
#define SKIFF_CAIOTEARDOWN_H

/*
 * Deferred teardown of Linux AIO contexts in the dqlite node process.
 *
 * libraft 0.15 gives every open segment of its log a kernel AIO context and, when the
 * segment is full, destroys it on the node's event loop with io_destroy(2). The kernel
 * answers io_destroy only after an RCU grace period: 28-42 ms measured here, during which
 * the node neither replicates nor answers SQL. Under a sustained write load a segment fills
 * several times a second. This module lets the node hand io_destroy to a short-lived thread
 * of its own: libraft calls it only after the segment's last write has completed (the
 * context holds no request), and nothing uses the context afterwards.
 *
 * It works by defining syscall(2) in the executable, which the linker must export
 * (--export-dynamic-symbol=syscall) so that libraft's call resolves to it. Every other
 * system call, and io_destroy while deferral is off, goes straight to the C library.
 */

/// Turns deferral on (non-zero) or off (0, the default). Only the node process turns it on.
void skiff_aio_teardown_defer(int enabled);

/// Whether libraft's calls to syscall(2) reach this module's definition: 1 if so, 0 if the
/// executable does not export it (then deferral cannot take effect).
int skiff_aio_teardown_interposed(void);

#endif
