/* hub_dl.h - what the download engine's two files share (private to
 * convert/hub): the engine and per-file state, and the helpers both use.
 * hub_download.c runs the engine (workers, opening files, hashing,
 * verification, publication); hub_transfer.c moves one byte range of one
 * file over HTTP into its partial file. Locks, in the order they may nest:
 * hash_mu -> engine mu -> file mu. */
#ifndef GQ_HUB_DL_H
#define GQ_HUB_DL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "hub_chunks.h"
#include "hub_download.h"

enum { PH_NEW, PH_BUSY, PH_OPEN, PH_DONE };

typedef hub_chunk chunk;

/* Start writeback of finished bytes every this many, so the fsync before
 * publishing finds little left to write and dirty pages never pile up. */
#define WRITEBACK_STEP (32u << 20)

/* Bytes gathered per pwrite: curl delivers at most 16 KiB per callback. */
#define WRITE_BUF (256u << 10)

struct engine;

typedef struct {
    struct engine *g;
    hub_item *it;
    int phase;                 /* engine mutex */
    int lock_fd, fd;
    int chunked, no_range, verify_failures;
    chunk *ch;
    size_t nch;
    int active;                /* workers inside this file (engine mutex) */
    atomic_uint gen;           /* bumped whenever ch[] is replaced */
    atomic_int restart_pending;/* the server ignored Range on a chunk */
    atomic_ullong fetched;     /* body bytes received for this file */
    pthread_mutex_t mu;        /* ch[].done, the state file */
    pthread_mutex_t hash_mu;   /* md, hashed */
    EVP_MD_CTX *md;
    uint64_t hashed;
    uint64_t dropped;          /* hashed bytes dropped from the page cache (hash_mu) */
    double last_save;
} dfile;

typedef struct engine {
    hub_client *c;
    const hub_dl_opts *o;
    dfile *f;
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;
    int err_code;
    char err[2048];
    atomic_ullong bytes;       /* received this run */
    int running;
    pthread_mutex_t hmu;       /* the hasher's wake-up */
    pthread_cond_t hcv;
    int hpending, hquit;
} engine;

/* The first error wins; every worker then stops taking work. fmt takes
 * two strings (b may be NULL). */
void hub_dl_fail(engine *g, int code, const char *fmt, const char *a, const char *b);
double hub_dl_now(void);
/* Write the progress file of a chunked download (f->mu held). */
int hub_dl_save_state(dfile *f);
/* Tell the hasher that some file's finished prefix may have grown. */
void hub_dl_wake_hasher(engine *g);
/* Restart f's hash from byte 0 (hash_mu held). 0 or -1. */
int hub_dl_hash_reset(dfile *f);
/* Move range c of f over HTTP into the partial file, retrying transient
 * failures. gen: f->gen when the range was handed out (a file restarted
 * meanwhile abandons it). wbuf: WRITE_BUF bytes. Returns 0 done, 1
 * abandoned (the file restarts or the engine stops), -1 failed (reported). */
int hub_dl_run_range(engine *g, dfile *f, chunk *c, unsigned gen, CURL *easy, char *wbuf);

#endif
