/* SPDX-License-Identifier: Apache-2.0 */
/* s3_bucket.c - bucket operations (create, head, versioning, Object Lock configuration)
 * and the Object Lock preflight the executor runs before writing a restore point. */
#include "backup/s3/s3_int.h"

#include <stdio.h>
#include <string.h>

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

static int bucket_req(struct s3_client *c, const char *method, const char *sub, const char *body,
                      struct s3_resp *resp, struct cm_err *err)
{
    struct s3_req r;

    memset(&r, 0, sizeof(r));
    r.method = method;
    if (sub != NULL)
        (void)s3_req_query(&r, sub, "");
    if (body != NULL) {
        r.body = (const unsigned char *)body;
        r.body_len = strlen(body);
        (void)s3_req_header(&r, "Content-Type", "application/xml");
    }
    return s3_request(c, &r, resp, err);
}

int s3_client_create_bucket(struct s3_client *c, bool object_lock, struct cm_err *err)
{
    struct s3_req r;
    struct s3_resp resp;
    char xml[256];
    const char *region;
    int rc;

    memset(&r, 0, sizeof(r));
    r.method = "PUT";
    if (object_lock)
        (void)s3_req_header(&r, "x-amz-bucket-object-lock-enabled", "true");
    /* us-east-1 is the default location: a LocationConstraint naming it is an error on
     * AWS, and radosgw's zonegroup ("default") rejects other names. */
    region = s3_client_region_(c);
    if (strcmp(region, "us-east-1") != 0) {
        (void)snprintf(xml, sizeof(xml),
                       "<CreateBucketConfiguration xmlns=\"" S3_XMLNS "\">"
                       "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                       region);
        r.body = (const unsigned char *)xml;
        r.body_len = strlen(xml);
        (void)s3_req_header(&r, "Content-Type", "application/xml");
    }
    rc = s3_request(c, &r, &resp, err);
    if (rc == 0)
        cm_buf_free(&resp.body);
    return rc;
}

int s3_client_head_bucket(struct s3_client *c, struct cm_err *err)
{
    struct s3_resp resp;
    int rc = bucket_req(c, "HEAD", NULL, NULL, &resp, err);

    if (rc == 0)
        cm_buf_free(&resp.body);
    return rc;
}

int s3_client_delete_bucket(struct s3_client *c, struct cm_err *err)
{
    struct s3_resp resp;
    int rc = bucket_req(c, "DELETE", NULL, NULL, &resp, err);

    if (rc == 0)
        cm_buf_free(&resp.body);
    return rc;
}

int s3_client_get_versioning(struct s3_client *c, enum s3_versioning *out, struct cm_err *err)
{
    struct s3_resp resp;
    int rc = bucket_req(c, "GET", "versioning", NULL, &resp, err);

    if (rc != 0)
        return rc;
    rc = s3_parse_versioning(resp.body.ptr, resp.body.len, out, err);
    if (rc != 0)
        cm_err_prefix(err, "GET %s?versioning", s3_client_bucket(c));
    cm_buf_free(&resp.body);
    return rc;
}

int s3_client_put_versioning(struct s3_client *c, bool enabled, struct cm_err *err)
{
    struct s3_resp resp;
    char xml[200];
    int rc;

    (void)snprintf(xml, sizeof(xml),
                   "<VersioningConfiguration xmlns=\"" S3_XMLNS "\"><Status>%s</Status>"
                   "</VersioningConfiguration>",
                   enabled ? "Enabled" : "Suspended");
    rc = bucket_req(c, "PUT", "versioning", xml, &resp, err);
    if (rc == 0)
        cm_buf_free(&resp.body);
    return rc;
}

int s3_client_get_lock_config(struct s3_client *c, struct s3_lock_config *out, struct cm_err *err)
{
    struct s3_resp resp;
    int rc = bucket_req(c, "GET", "object-lock", NULL, &resp, err);

    if (rc == CM_ENOENT && strcmp(resp.s3_code, "ObjectLockConfigurationNotFoundError") == 0)
        return cm_err_set(err, CM_ENOENT,
                          "bucket %s: Object Lock is not enabled (404 "
                          "ObjectLockConfigurationNotFoundError)",
                          s3_client_bucket(c));
    if (rc != 0)
        return rc;
    rc = s3_parse_lock_config(resp.body.ptr, resp.body.len, out, err);
    if (rc != 0)
        cm_err_prefix(err, "GET %s?object-lock", s3_client_bucket(c));
    cm_buf_free(&resp.body);
    return rc;
}

int s3_client_put_lock_config(struct s3_client *c, const struct s3_lock_config *cfg,
                              struct cm_err *err)
{
    struct s3_resp resp;
    char xml[512];
    char rule[256] = "";
    int rc;

    if (cfg == NULL)
        return cm_err_set(err, CM_EINVAL, "s3: no lock configuration");
    if (cfg->default_mode != S3_LOCK_NONE) {
        if (cfg->default_mode != S3_LOCK_GOVERNANCE && cfg->default_mode != S3_LOCK_COMPLIANCE)
            return cm_err_set(err, CM_EINVAL, "s3: unknown default retention mode");
        if ((cfg->default_days > 0) == (cfg->default_years > 0))
            return cm_err_set(err, CM_EINVAL,
                              "s3: default retention needs days or years "
                              "(exactly one)");
        (void)snprintf(rule, sizeof(rule),
                       "<Rule><DefaultRetention><Mode>%s</Mode><%s>%u</%s></DefaultRetention>"
                       "</Rule>",
                       s3_lock_mode_name(cfg->default_mode), cfg->default_days ? "Days" : "Years",
                       cfg->default_days ? cfg->default_days : cfg->default_years,
                       cfg->default_days ? "Days" : "Years");
    }
    (void)snprintf(xml, sizeof(xml),
                   "<ObjectLockConfiguration xmlns=\"" S3_XMLNS "\">"
                   "<ObjectLockEnabled>Enabled</ObjectLockEnabled>%s</ObjectLockConfiguration>",
                   rule);
    rc = bucket_req(c, "PUT", "object-lock", xml, &resp, err);
    if (rc == 0)
        cm_buf_free(&resp.body);
    return rc;
}

int s3_client_preflight_lock(struct s3_client *c, struct cm_err *err)
{
    enum s3_versioning v = S3_VERSIONING_NONE;
    struct s3_lock_config lc;
    const char *b = s3_client_bucket(c);
    int rc;

    rc = s3_client_get_versioning(c, &v, err);
    if (rc == CM_ENOENT)
        return cm_err_set(err, CM_ECONFIG, "bucket %s: does not exist", b);
    if (rc != 0)
        return rc;
    if (v != S3_VERSIONING_ENABLED)
        return cm_err_set(err, CM_ECONFIG,
                          "bucket %s: versioning is not enabled (%s); Object "
                          "Lock needs a versioned bucket created with Object Lock",
                          b, v == S3_VERSIONING_SUSPENDED ? "suspended" : "never enabled");
    memset(&lc, 0, sizeof(lc));
    rc = s3_client_get_lock_config(c, &lc, err);
    if (rc == CM_ENOENT || (rc == 0 && !lc.enabled))
        return cm_err_set(err, CM_ECONFIG, "bucket %s: Object Lock is not enabled", b);
    if (rc != 0)
        return rc;
    cm_log(CM_LOG_DEBUG, "s3", "object lock preflight passed", CM_LS("bucket", b),
           CM_LS("default_mode", s3_lock_mode_name(lc.default_mode)),
           CM_LI("default_days", lc.default_days), CM_LI("default_years", lc.default_years));
    return 0;
}
