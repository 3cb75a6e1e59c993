#ifndef SKIFF_CRAFTSENDLIMIT_H
#define SKIFF_CRAFTSENDLIMIT_H

#include <stddef.h>

/*
 * A limit on the bytes of log entries one Raft AppendEntries message carries, for the
 * dqlite node process.
 *
 * libraft 0.15 sends a follower every entry from its next index to the end of the log in
 * one message, and while the follower has not answered (it is probing) it sends that whole
 * message again at every heartbeat (75 ms at Skiff's default latency). A member that comes
 * back after a few seconds away under load is behind by hundreds of megabytes: it was sent
 * them dozens of times over, read gigabytes, and its process grew by as many.
 *
 * libraft hands each encoded message to libuv's uv_write(): a header buffer, then one
 * buffer per entry. This module defines uv_write in the executable (which the linker must
 * export: --export-dynamic-symbol=uv_write, so that libraft's calls resolve to it). When
 * the limit is on and the buffers are an AppendEntries message whose entries exceed it, it
 * sends the message with only its first entries (as many as fit, at least one): the count
 * and header size in the header are rewritten and the rest is left out. Raft allows that:
 * the follower appends the prefix and answers with its new last index, and the leader
 * sends from there. Every other write, and any buffers that do not match the message's
 * layout exactly, go to libuv unchanged.
 */

/// libuv's buffer on Unix (uv_buf_t): its layout is libuv's public ABI.
struct skiff_uv_buffer {
    char *base;
    size_t len;
};

/// Sets the limit in bytes of entry data per AppendEntries message; 0 (the default) turns
/// it off. Only the node process turns it on.
void skiff_raft_send_limit_set(size_t bytes);

/// Whether libraft's calls to uv_write reach this module: 1 if so, 0 if the executable
/// does not export its definition (then the limit cannot take effect).
int skiff_raft_send_limit_interposed(void);

/// How many AppendEntries messages this process has cut since it started.
unsigned long long skiff_raft_send_limit_cuts(void);

/// How many of the message's entries to send under `limit`: the number of entries if
/// `buffers` are not an AppendEntries message in libraft's encoding, or fit; otherwise the
/// longest prefix that fits, and at least 1. Reads the buffers only.
size_t skiff_raft_append_entries_kept(const struct skiff_uv_buffer *buffers, unsigned int count,
                                      size_t limit);

/// Rewrites an AppendEntries header (the message's first buffer) to announce only its
/// first `kept` entries, and returns the header's new length. `kept` must come from
/// skiff_raft_append_entries_kept for the same buffers.
size_t skiff_raft_append_entries_rewrite(struct skiff_uv_buffer header, size_t kept);

#endif
