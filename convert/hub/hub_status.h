/* hub_status.h - how a Hub operation ended: the Hub client's own result
 * codes. They say what went wrong in the client's terms; a program maps
 * them to its exit codes (gptoss-convert: fetch_exit_code() in
 * convert/cli/cmd_fetch.c), the library never knows those.
 */
#ifndef GQ_HUB_STATUS_H
#define GQ_HUB_STATUS_H

typedef enum {
    HUB_OK = 0,
    HUB_ERR_INTERNAL,     /* out of memory, cannot start threads or a curl handle */
    HUB_ERR_USAGE,        /* bad repo id / revision / HF_ENDPOINT, an empty selection */
    HUB_ERR_BAD_LISTING,  /* the server's listing is malformed or names a file we refuse to write */
    HUB_ERR_IO,           /* local disk: cannot create / write / lock / link, not enough space */
    HUB_ERR_NETWORK,      /* unreachable, HTTP errors after retries, malformed or misplaced answers */
    HUB_ERR_NOT_FOUND,    /* the repo, revision or file does not exist (or is private and no token) */
    HUB_ERR_AUTH,         /* the token was rejected, or a gated repo's terms are not accepted */
    HUB_ERR_INTEGRITY,    /* a file's content failed its hash twice */
    HUB_ERR_TIMEOUT,      /* the overall deadline (--timeout) passed; partial data kept */
    HUB_ERR_OFFLINE,      /* HF_HUB_OFFLINE=1 and what is asked is not in the cache */
    HUB_ERR_INTERRUPTED   /* SIGINT / SIGTERM: partial data kept for the next run */
} hub_status;

#endif
