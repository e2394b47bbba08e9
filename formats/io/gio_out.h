/* gio_out.h - crash-safe output files: after any crash, kill or signal,
 * PATH is either untouched or holds the complete, fsynced new file.
 *
 * Every file this project writes for the user (.gptoss, GGUF, and the Hub
 * cache's blobs and small bookkeeping files) goes through this module, so
 * the promise is made, tested and documented once (docs/FORMAT.md,
 * "Crash-safe output").
 *
 * The writer (gio_out_*):
 *  - bytes go to "PATH.tmp.<pid>" next to PATH (same file system, so the
 *    final rename is atomic), created with O_EXCL, mode 0644 (before the
 *    umask), and flock()ed for as long as we own it;
 *  - create refuses an existing PATH unless overwriting (EEXIST), and a PATH
 *    that exists and is not a regular file; it removes the temporaries of
 *    the same PATH that dead processes left (their flock is free), and
 *    refuses at once (EBUSY) while another live process writes the same
 *    PATH, so two conversions to one output never both do the work;
 *  - commit fsyncs the file (F_FULLFSYNC on macOS, where fsync does not
 *    reach the disk), moves it onto PATH (link() when not overwriting, so a
 *    PATH that appeared meanwhile survives: EEXIST; rename() otherwise) and
 *    fsyncs the directory. From the moment the name is in place the output
 *    is published: nothing here removes or reports it as failed afterwards;
 *  - discard (and every failure of commit before the move) removes the
 *    temporary; PATH is left as it was.
 *
 * Signals: a SIGINT/SIGTERM handler may call gio_out_signal_cleanup(), which
 * is async-signal-safe. Every writer registers its temporary's name BEFORE
 * the file exists, so a handler installed before gio_out_create never misses
 * one (up to 32 simultaneous writers per process; beyond, a temporary goes
 * unregistered and a signal may leave it for the next writer to remove). A writer that has published is never touched, and the function says
 * so, which lets a handler report a published run as the success it is.
 * A commit also refuses to publish when the flag given to gio_out_set_cancel
 * is set just before the move (errno EINTR), so a first signal that arrives
 * during the final fsync still cancels cleanly.
 *
 * Errors: functions return -1 (or NULL) with errno set and, where an err
 * buffer is given, a message naming the file and what to do.
 */
#ifndef GQ_GIO_OUT_H
#define GQ_GIO_OUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef struct gio_out gio_out;

/* Create and lock PATH's temporary (see above). overwrite: replace an
 * existing regular PATH at commit. errno: EEXIST (PATH exists, or exists as
 * a non-regular file), EBUSY (another live process writes PATH), EINVAL
 * (empty path, or it names a directory), ENOMEM, or open()'s errno for the
 * temporary (EACCES, EROFS, ENOSPC, EDQUOT...). */
gio_out *gio_out_create(const char *path, int overwrite, char *err, size_t errlen);
/* The temporary's descriptor (read-write); small writes may use
 * pwrite/gio_pwrite_all on it directly. */
int gio_out_fd(const gio_out *o);
/* Bulk data (tensors): through gio_stream.h, i.e. copied into large aligned
 * blocks that background threads write with O_DIRECT (page cache with
 * write-back and drop-behind where that is refused), so a 20 GB output
 * neither costs the kernel a copy of every byte nor fills the page cache
 * with dirty pages. Ascending offsets are the fast case; any order is
 * correct. Do not mix with pwrite on gio_out_fd over the same bytes before
 * commit (commit flushes the stream, then fsyncs). 0, or -1 with errno
 * (this write's or an earlier background write's: ENOSPC, EIO...). */
int gio_out_write(gio_out *o, const void *buf, size_t len, uint64_t off);
/* The same without copying where direct I/O allows (gio_stream.h): buf
 * must stay valid and unchanged until gio_out_release of a range holding
 * it, commit or discard has returned. */
int gio_out_write_borrowed(gio_out *o, const void *buf, size_t len, uint64_t off);
/* gio_stream_release: with wait, the caller's memory [lo, hi) is its own
 * again once this returns (also after an error); without, its writes are
 * only started. 0, or -1 with errno (a write failed). */
int gio_out_release(gio_out *o, const void *lo, const void *hi, int wait);
/* Reserve the blocks of a SIZE-byte file now and set its size (fallocate on
 * Linux, F_PREALLOCATE on macOS; a file system that cannot reserve gets a
 * sparse file), so "no space" comes before the work instead of after it.
 * 0, or -1 with errno (ENOSPC, EDQUOT, EFBIG, or ftruncate's). */
int gio_out_reserve(gio_out *o, uint64_t size);
const char *gio_out_path(const gio_out *o);
const char *gio_out_temp_path(const gio_out *o);
const char *gio_out_dir(const gio_out *o);   /* PATH's directory ("." if none) */
/* Commit refuses (EINTR, temporary removed) if *flag is non-zero just
 * before the move. NULL: no such check. */
void gio_out_set_cancel(gio_out *o, volatile sig_atomic_t *flag);
/* Flush gio_out_write's stream, fsync, move onto PATH, fsync the directory.
 * 0: published and durable. -1: not published (errno; temporary removed;
 * PATH as before). 1: published, but the directory fsync failed (errno):
 * PATH is complete and stays, only its survival across a power cut is in
 * doubt; the message says so. After commit, only gio_out_free. */
int gio_out_commit(gio_out *o, char *err, size_t errlen);
/* 1 once commit has moved the file into place. */
int gio_out_published(const gio_out *o);
/* Remove the temporary unless published, close, free (NULL is fine). */
void gio_out_free(gio_out *o);

/* Async-signal-safe (unlink only): remove the temporary of every writer in
 * this process that has not published. Returns 1 if some writer of this
 * process has published its output, even one freed since (a second signal
 * after the move must not be reported as a failed run), else 0. */
int gio_out_signal_cleanup(void);

/* ---- primitives (also for writers that keep their own naming, e.g. the
 * Hub cache's blobs/<sha>.incomplete) ---- */

/* pwrite all of buf at off (EINTR retried, huge lengths split); 0 or -1. */
int gio_pwrite_all(int fd, const void *buf, size_t len, off_t off);
/* Flush a file to stable storage: F_FULLFSYNC on macOS (falling back to
 * fsync where the file system lacks it), fsync elsewhere; EINTR retried. */
int gio_sync_fd(int fd);
/* fsync the directory holding path (so a create/rename in it is durable).
 * File systems that refuse fsync on a directory (EINVAL, ENOTSUP, EBADF)
 * count as success: the rename is atomic there anyway. 0 or -1. */
int gio_sync_dir_of(const char *path);
/* Publish a finished partial file: gio_sync_fd(fd), rename(partial, final),
 * gio_sync_dir_of(final). fd stays open (the caller closes it). Returns 0,
 * -1 (not moved; errno; partial left for the caller to handle), or 1
 * (moved, directory fsync failed; errno). */
int gio_publish(int fd, const char *partial, const char *final_path);
/* Open a partial file for resuming or writing (flags: O_RDWR/O_WRONLY plus
 * O_CREAT/O_TRUNC/O_APPEND as needed), never following a symlink at path
 * (O_NOFOLLOW), never blocking on a FIFO, and checking what was opened: it
 * must be a regular file with a single link (a hard link would let writes
 * land in another file). Returns the fd (O_CLOEXEC) or -1 with errno
 * (ELOOP for a symlink, EINVAL for another kind of file or a second link).
 * st (may be NULL) receives the fstat of the opened file. */
int gio_open_partial(const char *path, int flags, mode_t mode, struct stat *st);
/* Write a small file atomically: a private temporary next to path
 * ("PATH.tmp.<pid>", O_EXCL), write, fsync, rename, directory fsync.
 * For the Hub cache's refs and bookkeeping. 0 or -1 with errno (and a
 * message if err is given); the temporary never survives a failure. */
int gio_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err, size_t errlen);

#endif
