/* ringfold/io.h: fiber-aware I/O, sleeping, and running blocking code off the executor.
 *
 * Every call here works from any context:
 *   - on a fiber (a go block, a future body, an agent action run by the executor) it
 *     submits the request to the worker's io_uring (or waits for readiness on the
 *     worker's epoll set, or hands the syscall to a small blocking pool) and parks the
 *     fiber; the worker runs other fibers until the request completes;
 *   - on a plain thread it is the ordinary blocking syscall.
 * "May block" below therefore means: parks a fiber, blocks a thread.
 *
 * Results: the byte counts and descriptors the syscalls return (>= 0), or a negative
 * errno (-EBADF, -ECONNRESET, -EPIPE, -EAGAIN for an O_NONBLOCK fd that is not ready on
 * a plain thread, ...); never -1 with errno set, and errno is left alone. EINTR is
 * handled inside (the call is retried), except by rf_io_close, which never retries.
 * Like the syscalls, these return ssize_t/int counts rather than a code plus an
 * out-parameter: a short read is a result, not an error.
 *
 * Timeouts: the _timeout forms take `timeout_ms` last; zero tries once without waiting, a
 * negative timeout is -EINVAL, and a request that did not complete in time returns
 * -ETIMEDOUT having transferred nothing. Disk I/O (pread, pwrite, fsync) has no timeout
 * form: the kernel cannot abandon it half-way.
 *
 * Signals: writing to a pipe whose reader is gone raises SIGPIPE as write(2) does
 * (ignore SIGPIPE to get -EPIPE); rf_io_send always passes MSG_NOSIGNAL.
 *
 * Backends: io_uring where it can be set up, else epoll (see rf_stats_get's io_backend;
 * RF_IO_BACKEND=epoll forces it). Under epoll, sockets and pipes wait for readiness on
 * the worker, then transfer without blocking (MSG_DONTWAIT, RWF_NOWAIT); regular files,
 * fsync and anything not pollable run on the blocking pool; connect on a blocking-mode
 * socket runs on the pool too (and its timeout then applies only once the connection
 * is under way, as with a plain thread); accept on a blocking-mode listener shared with
 * threads outside ringfold should be made O_NONBLOCK, or another process may take the
 * connection between readiness and accept. A descriptor stays registered with a worker's
 * epoll from its first wait until rf_io_close; one closed with close(2) instead, whose
 * number is then reused, may be heard up to a second late on its first wait there.
 *
 * Clojure mapping: Clojure's I/O is the JVM's blocking I/O, which must not run inside a
 * go block (it would block one of core.async's 8 dispatch threads). Here it may: these
 * calls park the fiber instead. rf_blocking is core.async's (thread ...) for code that
 * has to block an OS thread; rf_sleep_ms is (Thread/sleep ms), and, in a go block,
 * (<! (timeout ms)).
 */
#ifndef RINGFOLD_IO_H
#define RINGFOLD_IO_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ringfold/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* read(2): read up to len bytes from fd at its file position.
 * Returns: the bytes read (>= 0; 0 is end of file, fewer than len is a short read).
 * Errors:  the syscall's errno (-EBADF, -ECONNRESET, ...), -ETIMEDOUT (the _timeout form,
 *          or the deadline of rf_io_deadline_set), -EINVAL (timeout_ms < 0), -ECANCELED
 *          (an attached cancel token was triggered), RF_ESHUTDOWN (a fiber's wait cut
 *          short by rf_shutdown).
 * Blocks:  until data or end of file (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    on a fiber when the data is ready: io_uring, a queued SQE and a park/resume
 *          (the worker submits and reaps its fibers' requests in one io_uring_enter);
 *          epoll, one preadv2 and no park. On a thread: the syscall. */
RF_API ssize_t rf_io_read(int fd, void *buf, size_t len);
RF_API ssize_t rf_io_read_timeout(int fd, void *buf, size_t len, int64_t timeout_ms);

/* write(2): write up to len bytes to fd at its file position.
 * Returns: the bytes written (>= 0; fewer than len is a short write).
 * Errors:  the syscall's errno (-EBADF, -EPIPE with SIGPIPE ignored, -ENOSPC, ...),
 *          -ETIMEDOUT (the _timeout form, or the deadline), -EINVAL (timeout_ms < 0),
 *          -ECANCELED (cancel token triggered), RF_ESHUTDOWN (a fiber's wait cut short by
 *          rf_shutdown).
 * Blocks:  until fd takes some of the data (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    as rf_io_read: one SQE (io_uring) or one pwritev2 (epoll) when fd has room. */
RF_API ssize_t rf_io_write(int fd, const void *buf, size_t len);
RF_API ssize_t rf_io_write_timeout(int fd, const void *buf, size_t len, int64_t timeout_ms);

/* pread(2): read up to len bytes at offset off; the file position is unchanged.
 * Returns: the bytes read (>= 0; 0 at or past end of file).
 * Errors:  -EINVAL (off < 0), the syscall's errno (-EBADF, -ESPIPE, -EIO, ...),
 *          -ETIMEDOUT (the deadline of rf_io_deadline_set, on a pollable fd only),
 *          -ECANCELED (cancel token triggered), RF_ESHUTDOWN (a fiber's wait cut short).
 * Blocks:  until the read completes (parks a fiber, blocks a thread); no timeout form.
 * Context: any.
 * Cost:    io_uring: one SQE and a park; epoll: a regular file goes to the blocking pool
 *          unless RWF_NOWAIT finds it cached; a thread: the syscall. */
RF_API ssize_t rf_io_pread(int fd, void *buf, size_t len, off_t off);

/* pwrite(2): write up to len bytes at offset off; the file position is unchanged.
 * Returns: the bytes written (>= 0).
 * Errors:  -EINVAL (off < 0), the syscall's errno (-EBADF, -ESPIPE, -ENOSPC, -EIO, ...),
 *          -ETIMEDOUT (the deadline, on a pollable fd only), -ECANCELED (cancel token
 *          triggered), RF_ESHUTDOWN (a fiber's wait cut short).
 * Blocks:  until the write completes (parks a fiber, blocks a thread); no timeout form.
 * Context: any.
 * Cost:    as rf_io_pread. */
RF_API ssize_t rf_io_pwrite(int fd, const void *buf, size_t len, off_t off);

/* readv(2): scatter a read into iovcnt buffers; iov and its buffers must stay valid
 * until the call returns.
 * Returns: the bytes read (>= 0; 0 is end of file).
 * Errors:  -EINVAL (iovcnt outside 0..IOV_MAX, iov NULL with iovcnt > 0, timeout_ms < 0),
 *          the syscall's errno, -ETIMEDOUT (the _timeout form, or the deadline),
 *          -ECANCELED (cancel token triggered), RF_ESHUTDOWN (a fiber's wait cut short).
 * Blocks:  until data or end of file (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    as rf_io_read (one SQE, or one preadv2 under epoll). */
RF_API ssize_t rf_io_readv(int fd, const struct iovec *iov, int iovcnt);
RF_API ssize_t rf_io_readv_timeout(int fd, const struct iovec *iov, int iovcnt, int64_t timeout_ms);

/* writev(2): gather a write from iovcnt buffers; iov and its buffers must stay valid
 * until the call returns.
 * Returns: the bytes written (>= 0; may be short).
 * Errors:  -EINVAL (iovcnt outside 0..IOV_MAX, iov NULL with iovcnt > 0, timeout_ms < 0),
 *          the syscall's errno (-EPIPE, ...), -ETIMEDOUT (the _timeout form, or the
 *          deadline), -ECANCELED (cancel token triggered), RF_ESHUTDOWN (a fiber's wait
 *          cut short).
 * Blocks:  until fd takes some of the data (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    as rf_io_write. */
RF_API ssize_t rf_io_writev(int fd, const struct iovec *iov, int iovcnt);
RF_API ssize_t rf_io_writev_timeout(int fd, const struct iovec *iov, int iovcnt,
                                    int64_t timeout_ms);

/* recv(2): receive up to len bytes from a socket; flags as for the syscall
 * (MSG_DONTWAIT makes the call try once).
 * Returns: the bytes received (>= 0; 0 is an orderly shutdown by the peer).
 * Errors:  the syscall's errno (-ENOTSOCK, -ECONNRESET, -EAGAIN with MSG_DONTWAIT, ...),
 *          -ETIMEDOUT (the _timeout form, or the deadline), -EINVAL (timeout_ms < 0),
 *          -ECANCELED (cancel token triggered), RF_ESHUTDOWN (a fiber's wait cut short).
 * Blocks:  until data or shutdown, unless MSG_DONTWAIT (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    io_uring: one SQE and a park; epoll: one recv when data is there, else
 *          readiness and a retry; a thread: the syscall. */
RF_API ssize_t rf_io_recv(int fd, void *buf, size_t len, int flags);
RF_API ssize_t rf_io_recv_timeout(int fd, void *buf, size_t len, int flags, int64_t timeout_ms);

/* send(2): send up to len bytes on a socket; flags as for the syscall, plus MSG_NOSIGNAL
 * always (MSG_DONTWAIT makes the call try once).
 * Returns: the bytes sent (>= 0; may be short).
 * Errors:  the syscall's errno (-ENOTSOCK, -EPIPE, -ECONNRESET, -EAGAIN with
 *          MSG_DONTWAIT, ...), -ETIMEDOUT (the _timeout form, or the deadline), -EINVAL
 *          (timeout_ms < 0), -ECANCELED (cancel token triggered), RF_ESHUTDOWN (a
 *          fiber's wait cut short).
 * Blocks:  until the socket takes some of the data, unless MSG_DONTWAIT; an untimed send
 *          that goes zero-copy (below) until the kernel lets go of buf.
 * Context: any.
 * Cost:    as rf_io_recv. On io_uring an untimed send of at least the zero-copy
 *          threshold (none by default: on loopback it never won, docs/io.md) goes out
 *          with SEND_ZC and returns at the kernel's notification (for TCP, the peer's
 *          acknowledgement), so buf is free to reuse on return as with a plain send. */
RF_API ssize_t rf_io_send(int fd, const void *buf, size_t len, int flags);
RF_API ssize_t rf_io_send_timeout(int fd, const void *buf, size_t len, int flags,
                                  int64_t timeout_ms);

/* accept4(2): take the next connection on a listening socket (flags: SOCK_NONBLOCK,
 * SOCK_CLOEXEC); addr/addrlen may be NULL.
 * Returns: the new connection's descriptor (>= 0).
 * Errors:  the syscall's errno (-EINVAL not listening, -ENOTSOCK, -EMFILE, ...),
 *          -ETIMEDOUT (the _timeout form, or the deadline), -EINVAL (timeout_ms < 0),
 *          -ECANCELED (cancel token triggered), RF_ESHUTDOWN (a fiber's wait cut short).
 * Blocks:  until a connection arrives (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    io_uring: one SQE and a park; epoll: readiness, then accept4; a thread: the
 *          syscall. */
RF_API int rf_io_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
RF_API int rf_io_accept_timeout(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags,
                                int64_t timeout_ms);

/* connect(2): connect a socket to addr.
 * Returns: 0 once connected.
 * Errors:  the syscall's errno or the connection's outcome (-ECONNREFUSED,
 *          -ENETUNREACH, -EISCONN, ...), -ETIMEDOUT (the kernel's, the _timeout form's, or
 *          the deadline's), -EINVAL (timeout_ms < 0), -ECANCELED (cancel token
 *          triggered), RF_ESHUTDOWN (a fiber's wait cut short).
 * Blocks:  until connected or failed (parks a fiber, blocks a thread). A zero timeout
 *          starts the connection, then -ETIMEDOUT unless it is made at once.
 * Context: any.
 * Cost:    io_uring: one SQE and a park; epoll: a non-blocking socket waits for
 *          writability, a blocking-mode one runs on the blocking pool. */
RF_API int rf_io_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);
RF_API int rf_io_connect_timeout(int fd, const struct sockaddr *addr, socklen_t addrlen,
                                 int64_t timeout_ms);

/* close(2): close fd. Fibers of the calling worker still waiting on fd get -EBADF.
 * Never retried on EINTR (the descriptor is gone either way; EINTR counts as 0).
 * Returns: 0.
 * Errors:  -EBADF, -EIO etc. from the file system; RF_ESHUTDOWN (an io_uring fiber
 *          during rf_shutdown). A triggered cancel token never stops it.
 * Blocks:  not beyond close(2) itself (on io_uring a fiber parks for its CQE).
 * Context: any.
 * Cost:    io_uring: one SQE and a park; epoll and threads: the syscall, plus dropping
 *          fd from the worker's epoll set. */
RF_API int rf_io_close(int fd);

/* recvmsg(2), sendmsg(2) on a socket; flags as for the syscalls (sendmsg adds
 * MSG_NOSIGNAL; MSG_DONTWAIT tries once). msg and what it points to must stay valid
 * until the call returns.
 * Returns: the bytes transferred (>= 0); msg's fields updated as the syscall does.
 * Errors:  -EINVAL (NULL msg), the syscall's errno, -ETIMEDOUT.
 * Blocks:  until data / room (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    as rf_io_recv / rf_io_send (io_uring: one SQE; epoll: readiness, then the call). */
RF_API ssize_t rf_io_recvmsg(int fd, struct msghdr *msg, int flags);
RF_API ssize_t rf_io_recvmsg_timeout(int fd, struct msghdr *msg, int flags, int64_t ms);
RF_API ssize_t rf_io_sendmsg(int fd, const struct msghdr *msg, int flags);
RF_API ssize_t rf_io_sendmsg_timeout(int fd, const struct msghdr *msg, int flags, int64_t ms);

/* shutdown(2): end one or both directions of a connection (SHUT_RD, SHUT_WR, SHUT_RDWR).
 * Returns: 0.
 * Errors:  -EINVAL (how out of range), -ENOTCONN, -ENOTSOCK, -EBADF. A triggered cancel
 *          token never stops it.
 * Blocks:  never.
 * Context: any.
 * Cost:    io_uring: one SQE and a park; epoll and threads: the syscall. */
RF_API int rf_io_shutdown(int fd, int how);

/* splice(2): move up to len bytes between fd_in and fd_out, one of them a pipe, without
 * copying through user memory (a file to a socket through a pipe: sendfile's job).
 * off_in / off_out: the offset to read or write at, or -1 for the descriptor's position
 * (a pipe's must be -1); the offsets given are not updated. flags: SPLICE_F_MOVE,
 * SPLICE_F_MORE (SPLICE_F_NONBLOCK: -EINVAL; the call waits).
 * Returns: the bytes moved (0: end of input).
 * Errors:  -EINVAL (offsets below -1, SPLICE_F_NONBLOCK), the syscall's errno.
 * Blocks:  until it moves something. No deadline applies (the wait may be on either side).
 * Context: any.
 * Cost:    io_uring: one SQE (the kernel's worker threads wait for it); epoll: the
 *          blocking pool; a thread: the syscall. */
RF_API ssize_t rf_io_splice(int fd_in, int64_t off_in, int fd_out, int64_t off_out, size_t len,
                            unsigned flags);

/* A deadline that spans calls: every later call here on the calling fiber (or plain
 * thread) that can time out ends by timeout_ms from now, whatever its own timeout, with
 * -ETIMEDOUT (one try without waiting once it has passed). Until rf_io_deadline_clear or
 * the next set; a fiber starts without one. Disk I/O, fsync, close, shutdown and splice
 * ignore it (they cannot be abandoned half-way or do not wait).
 * Returns: 0.
 * Errors:  -EINVAL (timeout_ms < 0).
 * Blocks:  never.
 * Context: any (per fiber; per thread on plain threads).
 * Cost:    a clock read; each call then compares one more deadline. */
RF_API int rf_io_deadline_set(int64_t timeout_ms);
RF_API void rf_io_deadline_clear(void);

/* Cancelling I/O from elsewhere: a token attached to fibers (or threads) whose I/O a
 * supervisor, another connection, or a timer may need to stop. Once triggered, every
 * I/O call of an attached context that waits on the backend wakes with -ECANCELED, and
 * every later call fails with -ECANCELED at once, except rf_io_close and rf_io_shutdown,
 * which always run so that the connection can be cleaned up. On io_uring the request itself is
 * cancelled in the kernel (on its own worker's ring); a transfer that completed first keeps its
 * result. Work on the blocking pool (files under epoll, rf_blocking) and calls blocked on plain
 * threads are not interrupted: only their next call fails. */
typedef struct rf_io_cancel rf_io_cancel;

/* A new, untriggered cancel token (free it with rf_io_cancel_free).
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL out), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one allocation. */
RF_API int rf_io_cancel_new(rf_io_cancel **out);

/* Drop the handle of a cancel token. Cancellers still in flight keep it alive until
 * they are done, and a trigger whose effect was seen (a call failed with -ECANCELED) may
 * still be returning: the token waits for it.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none. Precondition: no context has it attached.
 * Blocks:  never.
 * Context: any.
 * Cost:    an atomic decrement; a free for the last reference. */
RF_API void rf_io_cancel_free(rf_io_cancel *c);

/* Attach c to the calling fiber (or plain thread); NULL detaches. A fiber starts with
 * none. Attaching a triggered token makes the context's next calls fail at once.
 * Returns: 0.
 * Errors:  none.
 * Blocks:  never.
 * Context: any (per fiber; per thread on plain threads).
 * Cost:    one store. */
RF_API int rf_io_cancel_attach(rf_io_cancel *c);
/* Trigger c: wake the attached contexts' pending waits with -ECANCELED; their later calls
 * fail. Idempotent.
 * Returns: 0.
 * Errors:  -EINVAL (NULL); -ENOMEM / RF_ESHUTDOWN if the canceller for another worker's
 *          io_uring could not be started (that request then runs to its own end).
 * Blocks:  never.
 * Context: any: another fiber on any worker, a plain thread, a schedule.
 * Cost:    a short lock; per pending io_uring request on another worker, a fiber there
 *          that submits the kernel's cancel. */
RF_API int rf_io_cancel_trigger(rf_io_cancel *c);

/* Listeners: connections accepted ahead of the fibers that take them. On io_uring one
 * accept request stays armed on a worker's ring (multishot where the kernel has it: one
 * submission for many connections) and the connections it brings wait in the listener
 * until taken, at most `backlog` of them (then the request stops and the kernel's own
 * listen backlog holds the rest). Under epoll a taker calls accept4 when the socket is
 * readable; the socket stays registered with the worker's epoll set. Connections are
 * taken one at a time by any number of fibers or threads; the peer's address is
 * getpeername(2)'s. */
typedef struct rf_io_listener rf_io_listener;

/* A listener over the listening socket fd, which it makes O_NONBLOCK but does not own
 * (close fd after rf_io_listener_free). flags: accept4's for each connection
 * (SOCK_NONBLOCK, SOCK_CLOEXEC); backlog: connections held for takers, 1..65536.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL out, other flags, backlog out of range, fd not listening),
 *          -EBADF, -ENOTSOCK, -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    two small allocations, a getsockopt and an fcntl; the accept request is armed
 *          by the first taker that finds no connection waiting. */
RF_API int rf_io_listener_new(int fd, int flags, size_t backlog, rf_io_listener **out);

/* Take the next connection (accept4(2) with the listener's flags).
 * Returns: the connection's descriptor (>= 0), now the caller's.
 * Errors:  -EBADF (the listener was closed, before or during the wait; or fd was),
 *          -ETIMEDOUT (the _timeout form, or the deadline of rf_io_deadline_set),
 *          -EINVAL (NULL listener, timeout_ms < 0), -ECANCELED (cancel token
 *          triggered), RF_ESHUTDOWN (a fiber's wait cut short), accept's errno (-EMFILE,
 *          -ENFILE, -ENOBUFS, ...: reported once, to one taker).
 * Blocks:  until a connection is there (parks a fiber, blocks a thread; a thread sees a
 *          close within 100 ms).
 * Context: any.
 * Cost:    a queued connection: a short lock; io_uring: one CQE per connection and one
 *          SQE per multishot request (the kernel may end one; the next taker re-arms);
 *          epoll: one accept4 when one is ready, else readiness first. */
RF_API int rf_io_listener_accept(rf_io_listener *l);
RF_API int rf_io_listener_accept_timeout(rf_io_listener *l, int64_t timeout_ms);

/* Stop taking: every fiber waiting in rf_io_listener_accept wakes with -EBADF, later
 * takers get -EBADF, connections accepted but not taken are closed, and the armed
 * request is cancelled (on its own worker). fd stays open. Idempotent.
 * Returns: 0.
 * Errors:  -EINVAL (NULL); -ENOMEM if the canceller for another worker's ring could not
 *          be started (the request then ends with the ring or with fd's close).
 * Blocks:  never.
 * Context: any.
 * Cost:    a short lock; a close per queued connection; on io_uring, an ASYNC_CANCEL
 *          (from a fiber spawned on the request's worker when called elsewhere). */
RF_API int rf_io_listener_close(rf_io_listener *l);

/* Close the listener (as rf_io_listener_close) and drop the handle; its memory goes
 * when the last call using it and its request are done, a close whose effect was seen
 * (a taker got -EBADF) included.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    as rf_io_listener_close. */
RF_API void rf_io_listener_free(rf_io_listener *l);

/* Buffer pools and readers: receiving into a buffer picked when data arrives, so that
 * an idle connection holds no buffer. A pool has `count` buffers of `size` bytes for
 * each executor worker (and for plain threads), made at first use there. On io_uring
 * they form a provided buffer ring of the worker's ring: a reader keeps one multishot
 * recv armed and the kernel fills a buffer from the ring per arrival; elsewhere (epoll,
 * plain threads, kernels without buffer rings) a reader waits until the socket is
 * readable, then receives into a free buffer of the pool. When the pool has none left the
 * data is received into a heap buffer of the same size instead (freed when returned). */
typedef struct rf_io_bufpool rf_io_bufpool;
typedef struct rf_io_reader rf_io_reader;

/* A received buffer: data and len are the caller's to read (and write) until it goes
 * back with rf_io_buf_return; the other fields are ringfold's. */
typedef struct rf_io_buf {
	void *data;
	size_t len;
	void *pool_;
	void *share_;
	uint32_t id_;
} rf_io_buf;

/* A pool of count buffers of buf_size bytes per worker.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL out, buf_size 0 or over 16 MiB, count 0 or over 32768), -ENOMEM,
 *          RF_ESHUTDOWN (the runtime, started here if needed, is stopping).
 * Blocks:  never.
 * Context: any.
 * Cost:    two small allocations; a worker's buffers (count * buf_size bytes) and, on
 *          io_uring, its buffer ring registration at the first receive there. */
RF_API int rf_io_bufpool_new(size_t buf_size, unsigned count, rf_io_bufpool **out);

/* Drop the pool's handle; its memory goes once every reader of it is freed and every
 * buffer returned.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    an atomic decrement; at the last, an unmap and frees. */
RF_API void rf_io_bufpool_free(rf_io_bufpool *p);

/* Give a received buffer back to its pool (b->data is NULL afterwards).
 * Returns: 0.
 * Errors:  -EINVAL (NULL, or a buffer not received or already returned).
 * Blocks:  never.
 * Context: any (another fiber, worker or thread than the receiver's too).
 * Cost:    a short lock and, on io_uring, a store the kernel sees; a free for a heap
 *          buffer. */
RF_API int rf_io_buf_return(rf_io_buf *b);

/* A reader of the socket fd (stream or datagram) receiving into pool's buffers. It does
 * not own fd; rf_io_close(fd) ends its request, and its next call gets -EBADF.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL pool or out, fd < 0), -ENOMEM.
 * Blocks:  never.
 * Context: any.
 * Cost:    one small allocation; no buffer until data arrives. */
RF_API int rf_io_reader_new(int fd, rf_io_bufpool *pool, rf_io_reader **out);

/* recv(2) into a pool buffer: *out holds the bytes received, to be given back with
 * rf_io_buf_return. One call at a time per reader.
 * Returns: the bytes received (> 0, *out set), or 0 at the end of the stream (*out
 *          untouched).
 * Errors:  recv's errno (-ECONNRESET, -EBADF, -ENOTSOCK, ...), -ETIMEDOUT (the _timeout
 *          form, or the deadline), -EINVAL (NULL reader or out, timeout_ms < 0), -EBUSY
 *          (another call on this reader is in progress), -ECANCELED (cancel token
 *          triggered), RF_ESHUTDOWN (a fiber's wait cut short), -ENOMEM.
 * Blocks:  until data or the end of the stream (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    io_uring: data already received: a short lock; else a park until the
 *          multishot request's CQE (one SQE per request, which lasts until the pool runs
 *          dry, the stream ends or fd is closed); epoll: one recv when data is there,
 *          else readiness first. */
RF_API ssize_t rf_io_reader_recv(rf_io_reader *r, rf_io_buf *out);
RF_API ssize_t rf_io_reader_recv_timeout(rf_io_reader *r, int64_t timeout_ms, rf_io_buf *out);

/* Free the reader: data received but not taken goes back to the pool, and its request is
 * cancelled (on its own worker). No call on it may be in progress.
 * Returns: nothing; NULL is a no-op.
 * Errors:  none.
 * Blocks:  never.
 * Context: any.
 * Cost:    a short lock; on io_uring an ASYNC_CANCEL (from a fiber spawned on the
 *          request's worker when called elsewhere). */
RF_API void rf_io_reader_free(rf_io_reader *r);

typedef struct rf_chan rf_chan;

/* Signals as channel values: a channel (fixed buffer of buf) that receives the number
 * of each of the n signals given as it arrives, read from a signalfd by a go process
 * (an io_uring poll, or the worker's epoll). The signals are blocked on the calling
 * thread and on every executor worker, so their default actions no longer run there;
 * block them on other threads too (best: in main, before starting any thread), or the
 * kernel may deliver one there instead. Closing the channel ends the reader within
 * 100 ms; rf_stop_graceful and rf_shutdown end it too. Free the channel with rf_chan_release.
 * Returns: 0 and *out.
 * Errors:  -EINVAL (NULL signals or out, n or buf 0, a signal out of range, SIGKILL,
 *          SIGSTOP), -ENOMEM, -EMFILE, RF_ESHUTDOWN.
 * Blocks:  briefly, while every worker blocks the signals (parks a fiber).
 * Context: any.
 * Cost:    a signalfd and a go process per channel, woken every 100 ms; per signal, a
 *          read and a put. */
RF_API int rf_signal_chan(const int *signals, size_t n, size_t buf, rf_chan **out);

/* fsync(2): flush fd's data and metadata to its device.
 * Returns: 0.
 * Errors:  the syscall's errno (-EBADF, -EIO, -EROFS, -EINVAL, ...), -ECANCELED (cancel
 *          token triggered), RF_ESHUTDOWN (a fiber's wait cut short). No timeout, and the
 *          deadline does not apply.
 * Blocks:  until the device has it (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    io_uring: one SQE and a park; epoll: the blocking pool; a thread: the
 *          syscall. */
RF_API int rf_io_fsync(int fd);

/* poll(2) on one descriptor: wait until fd is ready for `events` (POLLIN, POLLOUT,
 * POLLPRI, ...).
 * Returns: the events seen (> 0; POLLERR and POLLHUP are always reported).
 * Errors:  -EBADF (POLLNVAL, or fd < 0), -ETIMEDOUT (the _timeout form, or the
 *          deadline), -EINVAL (timeout_ms < 0), -ECANCELED (cancel token triggered),
 *          RF_ESHUTDOWN (a fiber's wait cut short), another errno of poll(2).
 * Blocks:  until fd is ready (parks a fiber, blocks a thread).
 * Context: any.
 * Cost:    io_uring: one poll SQE and a park; epoll: one poll(2) with a zero timeout
 *          when ready, else a wait on the worker's epoll set; a thread: poll(2). */
RF_API int rf_io_pollfd(int fd, short events);
RF_API int rf_io_pollfd_timeout(int fd, short events, int64_t timeout_ms);

/* (Thread/sleep ms): sleep ms milliseconds.
 * Returns: 0.
 * Errors:  -EINVAL (ms < 0).
 * Blocks:  parks a fiber on its worker's timers, sleeps a thread.
 * Context: any.
 * Cost:    a timer entry and a park (0 on a fiber still parks once). */
RF_API int rf_sleep_ms(int64_t ms);

/* (Thread/yield): let others run. On a fiber it parks and requeues the fiber behind the
 * worker's other ready fibers (a long computation in a go process calls it now and then,
 * which also keeps the stall detector quiet); on a plain thread it is sched_yield().
 * Returns: nothing.
 * Errors:  none.
 * Blocks:  never beyond the other fibers' turns.
 * Context: any.
 * Cost:    two context switches on a fiber; a syscall on a thread. */
RF_API void rf_yield(void);

/* (<! (thread (f arg))): run fn(arg, out) where it may block an OS thread: on a fiber,
 * on a small elastic pool of threads while the fiber parks, with the caller's dynamic
 * bindings conveyed (as core.async's thread does); on a plain thread, right there.
 * Returns: fn's return (*out is RF_NIL on entry; out may be NULL).
 * Errors:  -EINVAL (fn NULL), -ENOMEM (no memory to convey the bindings; fn not run).
 * Blocks:  parks a fiber until fn returns; a thread runs fn itself.
 * Context: any.
 * Cost:    on a fiber, a hand-off to a pool thread and back (a thread start when none is
 *          idle). */
RF_API int rf_blocking(rf_body_fn fn, rf_val arg, rf_val *out);

#ifdef __cplusplus
}
#endif
#endif
