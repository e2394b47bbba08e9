/* cmd_fetch.h - what `gptoss-convert fetch` shares with the other
 * subcommands (`convert ORG/NAME` fetches too): the one mapping from the
 * Hub client's hub_status to gptoss-convert's exit codes (cli.h), the
 * --timeout value, and the fetch behind `convert ORG/NAME`.
 */
#ifndef GQ_CMD_FETCH_H
#define GQ_CMD_FETCH_H

#include "hub.h"

/* The exit code (cli.h) for a hub_status: 0 ok, 2 usage, 3 unsafe or
 * malformed listing, 4 disk, 6 network / not found / auth / integrity /
 * timeout / offline and missing, 130 interrupted, 1 anything else. */
int fetch_exit_code(hub_status s);

/* Parses a --timeout value: seconds > 0 (decimals allowed). Returns 0 or -1. */
int fetch_parse_timeout(const char *v, double *seconds);

/* Fetches (or finds in the cache) the default selection of repo_id at
 * revision (NULL: "main"), progress on a terminal, giving up after timeout_s (0: never).
 * Returns the snapshot folder (valid until exit), or NULL with the error in
 * msg (for the caller to report, in JSON too); *exit_code is set
 * (fetch_exit_code). */
const char *fetch_snapshot_for_convert(const char *repo_id, const char *revision, double timeout_s,
                                       int *exit_code, char *msg, size_t msglen);

#endif
