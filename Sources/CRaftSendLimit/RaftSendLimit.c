#define _GNU_SOURCE
#include "CRaftSendLimit.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libraft 0.15's message encoding (little endian): a preamble of the message type and the
 * header's size (8 bytes each); for AppendEntries (type 1) a header of the term, previous
 * index, previous term and commit index (8 bytes each), the entry count (8), a 16-byte
 * descriptor per entry (term 8, type 1, unused 3, size 4), and 8 bytes that version leaves
 * unused; then each entry's data in a buffer of its own. */
enum {
    PREAMBLE_SIZE = 16,
    FIXED_SIZE = 32,
    COUNT_SIZE = 8,
    DESCRIPTOR_SIZE = 16,
    DESCRIPTOR_DATA_SIZE_OFFSET = 12,
    APPEND_ENTRIES = 1,
};

typedef int (*uv_write_function)(void *, void *, const struct skiff_uv_buffer *, unsigned int, void *);

static _Atomic(uv_write_function) next_uv_write;
static atomic_size_t limit_bytes;
static atomic_ullong cuts;

static uint64_t get64(const unsigned char *bytes) {
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--) value = (value << 8) | bytes[i];
    return value;
}

static uint32_t get32(const unsigned char *bytes) {
    uint32_t value = 0;
    for (int i = 3; i >= 0; i--) value = (value << 8) | bytes[i];
    return value;
}

static void put64(unsigned char *bytes, uint64_t value) {
    for (int i = 0; i < 8; i++) {
        bytes[i] = (unsigned char)(value & 0xff);
        value >>= 8;
    }
}

void skiff_raft_send_limit_set(size_t bytes) { atomic_store(&limit_bytes, bytes); }

unsigned long long skiff_raft_send_limit_cuts(void) { return atomic_load(&cuts); }

size_t skiff_raft_append_entries_kept(const struct skiff_uv_buffer *buffers, unsigned int count,
                                      size_t limit) {
    if (buffers == NULL || count < 2) return count > 0 ? count - 1 : 0;
    size_t entries = (size_t)count - 1;
    const struct skiff_uv_buffer head = buffers[0];
    size_t fixed = PREAMBLE_SIZE + FIXED_SIZE + COUNT_SIZE;
    if (head.base == NULL || head.len < fixed) return entries;
    const unsigned char *bytes = (const unsigned char *)head.base;
    if (get64(bytes) != APPEND_ENTRIES) return entries;
    if (get64(bytes + 8) != (uint64_t)(head.len - PREAMBLE_SIZE)) return entries;
    if (get64(bytes + PREAMBLE_SIZE + FIXED_SIZE) != (uint64_t)entries) return entries;
    /* entries < 2^32, so the descriptors' size cannot overflow. */
    size_t descriptors = entries * DESCRIPTOR_SIZE;
    size_t tail = head.len - fixed;
    if (tail != descriptors && tail != descriptors + 8) return entries;

    size_t kept = 0, kept_bytes = 0;
    int fits = 1;
    for (size_t i = 0; i < entries; i++) {
        const unsigned char *descriptor = bytes + fixed + i * DESCRIPTOR_SIZE;
        size_t size = get32(descriptor + DESCRIPTOR_DATA_SIZE_OFFSET);
        if (buffers[i + 1].len != size) return entries;
        if (fits && (kept == 0 || (kept_bytes <= limit && size <= limit - kept_bytes))) {
            kept += 1;
            kept_bytes += size;
        } else {
            fits = 0;
        }
    }
    return kept;
}

size_t skiff_raft_append_entries_rewrite(struct skiff_uv_buffer header, size_t kept) {
    unsigned char *bytes = (unsigned char *)header.base;
    size_t entries = (size_t)get64(bytes + PREAMBLE_SIZE + FIXED_SIZE);
    size_t length = header.len - (entries - kept) * DESCRIPTOR_SIZE;
    put64(bytes + PREAMBLE_SIZE + FIXED_SIZE, (uint64_t)kept);
    put64(bytes + 8, (uint64_t)(length - PREAMBLE_SIZE));
    return length;
}

/* libuv's uv_write, found once. */
static uv_write_function libuv_write(void) {
    uv_write_function found = atomic_load_explicit(&next_uv_write, memory_order_acquire);
    if (found == NULL) {
        found = (uv_write_function)dlsym(RTLD_NEXT, "uv_write");
        atomic_store_explicit(&next_uv_write, found, memory_order_release);
    }
    return found;
}

/* Replaces libuv's uv_write for the whole process (see the header). libuv copies the
 * buffer array during the call, so the shortened copy is freed right after it. */
int uv_write(void *request, void *stream, const struct skiff_uv_buffer buffers[], unsigned int count,
             void *callback) {
    uv_write_function next = libuv_write();
    if (next == NULL) return -38; /* UV_ENOSYS */
    size_t limit = atomic_load_explicit(&limit_bytes, memory_order_relaxed);
    if (limit == 0 || count < 2) return next(request, stream, buffers, count, callback);
    size_t kept = skiff_raft_append_entries_kept(buffers, count, limit);
    if (kept + 1 >= count) return next(request, stream, buffers, count, callback);
    struct skiff_uv_buffer *shortened = malloc(sizeof *shortened * (kept + 1));
    if (shortened == NULL) return next(request, stream, buffers, count, callback);
    memcpy(shortened, buffers, sizeof *shortened * (kept + 1));
    shortened[0].len = skiff_raft_append_entries_rewrite(buffers[0], kept);
    int result = next(request, stream, shortened, (unsigned int)(kept + 1), callback);
    free(shortened);
    atomic_fetch_add_explicit(&cuts, 1, memory_order_relaxed);
    return result;
}

int skiff_raft_send_limit_interposed(void) {
    /* The definition the dynamic linker gives to every library that calls uv_write. */
    void *global = dlsym(RTLD_DEFAULT, "uv_write");
    return global == (void *)&uv_write;
}
