/* SPDX-License-Identifier: Apache-2.0 */
/* audit_model.c - the compliance audit model: classifying one app from its facts and
 * the report that holds the classified apps. */
#include "backup/backup.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct backup_audit_report {
    time_t now;
    struct backup_audit_app *apps;
    size_t n;
    size_t cap;
};

const char *backup_audit_class_name(enum backup_audit_class c)
{
    switch (c) {
    case BACKUP_AUDIT_PROTECTED:
        return "protected";
    case BACKUP_AUDIT_UNPROTECTED:
        return "unprotected";
    case BACKUP_AUDIT_NOT_IMMUTABLE:
        return "not-immutable";
    case BACKUP_AUDIT_STALE:
        return "stale";
    default:
        return "?";
    }
}

const char *backup_audit_issue_name(unsigned bit)
{
    static const char *const names[BACKUP_AUDIT_ISSUE_COUNT_] = {
        "unbound",
        "unknown-policy",
        "guardrail-failed",
        "no-restore-point",
        "incomplete",
        "verify-failed",
        "stale",
        "not-locked",
        "lock-expired",
        "lock-weaker-than-policy",
        "policy-has-no-lock",
        "schedule-never-fires",
    };
    unsigned i;

    for (i = 0; i < BACKUP_AUDIT_ISSUE_COUNT_; i++) {
        if (bit == (1u << i))
            return names[i];
    }
    return "?";
}

const char *backup_audit_lock_name(enum policy_lock_mode m)
{
    switch (m) {
    case POLICY_LOCK_GOVERNANCE:
        return "GOVERNANCE";
    case POLICY_LOCK_COMPLIANCE:
        return "COMPLIANCE";
    default:
        return "NONE";
    }
}

int backup_audit_format_parse(const char *s, enum backup_audit_format *out)
{
    static const struct {
        const char *name;
        enum backup_audit_format f;
    } tab[] = {{"text", BACKUP_AUDIT_TEXT},
               {"json", BACKUP_AUDIT_JSON},
               {"csv", BACKUP_AUDIT_CSV},
               {"html", BACKUP_AUDIT_HTML}};
    size_t i;

    if (s == NULL)
        return CM_EINVAL;
    for (i = 0; i < CM_ARRAY_LEN(tab); i++) {
        if (strcmp(s, tab[i].name) == 0) {
            *out = tab[i].f;
            return 0;
        }
    }
    return CM_EINVAL;
}

/* The RPO boundary: the scheduled time before the latest scheduled time at or before
 * now. Returns 0 when the schedule has not fired twice within the search window. */
static time_t rpo_boundary(const struct policy_cron *c, time_t now)
{
    time_t last = policy_cron_prev(c, now);
    time_t before;

    if (last < 0)
        return 0;
    before = policy_cron_prev(c, last - 1);
    if (before < 0)
        return 0;
    return before;
}

static unsigned lock_issues(const struct backup_audit_facts *f, time_t now)
{
    unsigned issues = 0;

    if (f->policy_lacks_lock)
        issues |= BACKUP_AUDIT_ISSUE_POLICY_NO_LOCK;
    if (f->lock_mode == POLICY_LOCK_NONE) {
        issues |= BACKUP_AUDIT_ISSUE_NO_LOCK;
        return issues;
    }
    if (f->retain_until <= now)
        issues |= BACKUP_AUDIT_ISSUE_LOCK_EXPIRED;
    if (f->lock_required == POLICY_LOCK_COMPLIANCE && f->lock_mode != POLICY_LOCK_COMPLIANCE)
        issues |= BACKUP_AUDIT_ISSUE_LOCK_WEAK;
    return issues;
}

void backup_audit_classify(const struct backup_audit_facts *f, time_t now,
                           struct backup_audit_verdict *out)
{
    const unsigned unprot = BACKUP_AUDIT_ISSUE_UNBOUND | BACKUP_AUDIT_ISSUE_UNKNOWN_POLICY |
                            BACKUP_AUDIT_ISSUE_GUARDRAIL | BACKUP_AUDIT_ISSUE_NO_POINT |
                            BACKUP_AUDIT_ISSUE_INCOMPLETE | BACKUP_AUDIT_ISSUE_VERIFY;
    const unsigned lock = BACKUP_AUDIT_ISSUE_NO_LOCK | BACKUP_AUDIT_ISSUE_LOCK_EXPIRED |
                          BACKUP_AUDIT_ISSUE_LOCK_WEAK | BACKUP_AUDIT_ISSUE_POLICY_NO_LOCK;
    unsigned issues = 0;

    memset(out, 0, sizeof(*out));
    out->age_s = -1;
    out->lock_required = f->lock_required != POLICY_LOCK_NONE || f->policy_lacks_lock;
    if (f->policy == NULL || f->policy[0] == '\0')
        issues |= BACKUP_AUDIT_ISSUE_UNBOUND;
    else if (f->policy_missing)
        issues |= BACKUP_AUDIT_ISSUE_UNKNOWN_POLICY;
    if (f->guardrail == BACKUP_AUDIT_GR_FAIL)
        issues |= BACKUP_AUDIT_ISSUE_GUARDRAIL;
    if (f->point == NULL || f->point[0] == '\0') {
        issues |= BACKUP_AUDIT_ISSUE_NO_POINT;
    } else {
        /* point_time <= 0: the point exists but its time is unknown (an unreadable
         * bucket); its age and staleness cannot be judged. */
        if (f->point_time > 0)
            out->age_s = now > f->point_time ? (long long)(now - f->point_time) : 0;
        if (!f->point_complete)
            issues |= BACKUP_AUDIT_ISSUE_INCOMPLETE;
        if (f->verify != BACKUP_AUDIT_VERIFY_OK)
            issues |= BACKUP_AUDIT_ISSUE_VERIFY;
        /* The lock of a point that is partial or fails verification is not worth
         * judging: the point is unusable anyway (and its lock may not be known). */
        if (out->lock_required && f->point_complete && f->verify == BACKUP_AUDIT_VERIFY_OK)
            issues |= lock_issues(f, now);
        if (f->cron != NULL && f->point_time > 0) {
            out->rpo_boundary = rpo_boundary(f->cron, now);
            if (out->rpo_boundary == 0)
                issues |= BACKUP_AUDIT_ISSUE_NO_SCHEDULE;
            else if (f->point_time < out->rpo_boundary - BACKUP_AUDIT_SKEW_S)
                issues |= BACKUP_AUDIT_ISSUE_STALE;
        }
    }
    out->issues = issues;
    if (issues & unprot)
        out->cls = BACKUP_AUDIT_UNPROTECTED;
    else if (issues & lock)
        out->cls = BACKUP_AUDIT_NOT_IMMUTABLE;
    else if (issues & (BACKUP_AUDIT_ISSUE_STALE | BACKUP_AUDIT_ISSUE_NO_SCHEDULE))
        out->cls = BACKUP_AUDIT_STALE;
    else
        out->cls = BACKUP_AUDIT_PROTECTED;
}

/* Copies s into dst[len], cutting at a UTF-8 boundary so a cut never leaves half a
 * character for the renderers to escape. */
static void copy_cut(char *dst, size_t len, const char *s)
{
    size_t n;

    if (s == NULL) {
        dst[0] = '\0';
        return;
    }
    n = strlen(s);
    if (n >= len) {
        n = len - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

int backup_audit_report_create(time_t now, struct backup_audit_report **out)
{
    struct backup_audit_report *r = cm_calloc(1, sizeof(*r));

    if (r == NULL)
        return CM_ENOMEM;
    r->now = now;
    *out = r;
    return 0;
}

void backup_audit_report_destroy(struct backup_audit_report *r)
{
    if (r == NULL)
        return;
    cm_free(r->apps);
    cm_free(r);
}

int backup_audit_report_add(struct backup_audit_report *r, const struct backup_audit_facts *f,
                            struct cm_err *err)
{
    struct backup_audit_app *a;

    if (f->kind == NULL || f->ns == NULL || f->name == NULL || f->kind[0] == '\0' ||
        f->name[0] == '\0')
        return cm_err_set(err, CM_EINVAL, "audit: an app needs a kind, namespace and name");
    if (r->n >= BACKUP_AUDIT_MAX_APPS)
        return cm_err_set(err, CM_ETOOBIG, "audit: more than %d apps", (int)BACKUP_AUDIT_MAX_APPS);
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        struct backup_audit_app *na;

        if (ncap > BACKUP_AUDIT_MAX_APPS)
            ncap = BACKUP_AUDIT_MAX_APPS;
        na = cm_realloc(r->apps, ncap * sizeof(*na));
        if (na == NULL)
            return cm_err_set(err, CM_ENOMEM, "audit: out of memory");
        r->apps = na;
        r->cap = ncap;
    }
    a = &r->apps[r->n];
    memset(a, 0, sizeof(*a));
    copy_cut(a->kind, sizeof(a->kind), f->kind);
    copy_cut(a->ns, sizeof(a->ns), f->ns);
    copy_cut(a->name, sizeof(a->name), f->name);
    a->guardrail = f->guardrail;
    copy_cut(a->guardrail_detail, sizeof(a->guardrail_detail), f->guardrail_detail);
    copy_cut(a->policy, sizeof(a->policy), f->policy);
    copy_cut(a->schedule, sizeof(a->schedule), f->schedule);
    a->lock_required = f->lock_required;
    copy_cut(a->point, sizeof(a->point), f->point);
    a->point_time = f->point_time;
    a->point_complete = f->point_complete;
    a->verify = f->verify;
    copy_cut(a->verify_detail, sizeof(a->verify_detail), f->verify_detail);
    a->lock_mode = f->lock_mode;
    a->retain_until = f->retain_until;
    a->legal_hold = f->legal_hold;
    backup_audit_classify(f, r->now, &a->v);
    r->n++;
    return 0;
}

static int app_cmp(const void *pa, const void *pb)
{
    const struct backup_audit_app *a = pa;
    const struct backup_audit_app *b = pb;
    int c = strcmp(a->ns, b->ns);

    if (c == 0)
        c = strcmp(a->name, b->name);
    if (c == 0)
        c = strcmp(a->kind, b->kind);
    return c;
}

void backup_audit_report_exclude(struct backup_audit_report *r, const char *ns)
{
    size_t i;
    size_t w = 0;

    for (i = 0; i < r->n; i++) {
        if (strcmp(r->apps[i].ns, ns) == 0)
            continue;
        if (w != i)
            r->apps[w] = r->apps[i];
        w++;
    }
    r->n = w;
}

void backup_audit_report_sort(struct backup_audit_report *r)
{
    if (r->n > 1)
        qsort(r->apps, r->n, sizeof(r->apps[0]), app_cmp);
}

size_t backup_audit_report_count(const struct backup_audit_report *r)
{
    return r->n;
}

const struct backup_audit_app *backup_audit_report_get(const struct backup_audit_report *r,
                                                       size_t i)
{
    return i < r->n ? &r->apps[i] : NULL;
}

time_t backup_audit_report_now(const struct backup_audit_report *r)
{
    return r->now;
}

size_t backup_audit_report_tally(const struct backup_audit_report *r, enum backup_audit_class c)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < r->n; i++) {
        if (r->apps[i].v.cls == c)
            n++;
    }
    return n;
}

bool backup_audit_report_compliant(const struct backup_audit_report *r)
{
    return backup_audit_report_tally(r, BACKUP_AUDIT_PROTECTED) == r->n;
}
