/* SPDX-License-Identifier: Apache-2.0 */
/* wh_jsonpatch.h - a small RFC 6902 JSON Patch applier (add, remove, replace, test)
 * with RFC 6901 pointers, so that tests apply the webhook's patches to the object and
 * compare with the expected object, as the API server would.
 *
 * Design note: strict like the API server: an `add` whose parent does not exist fails
 * (that is exactly the bug the webhook must avoid when metadata.annotations is
 * absent). Not thread-safe for the same document. */
#ifndef TESTS_SUPPORT_WH_JSONPATCH_H
#define TESTS_SUPPORT_WH_JSONPATCH_H

#include "common/cm.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Applies the JSON Patch array patch[0..len) to doc in place. Returns 0, CM_EPARSE
 * (not a patch array, bad pointer), CM_ENOENT (a path or its parent is missing),
 * CM_EINVAL (unsupported op, failed test) or CM_ENOMEM, with err saying which
 * operation. On failure doc may be partly patched. */
CM_NODISCARD int wht_jsonpatch_apply(cJSON *doc, const char *patch, size_t len, struct cm_err *err);

#endif /* TESTS_SUPPORT_WH_JSONPATCH_H */
