/* npz.c - a model's parameters as an .npz: a zip archive of NAME.npy files, stored (method 0,
 * no compression), so numpy.load("model.npz")["W1"] returns parameter W1.
 *
 * Zip layout written (PKWARE APPNOTE.TXT; all integers little-endian):
 *   per entry, a local file header (30 bytes + name) then the .npy bytes:
 *     sig 0x04034b50 | version needed 20 | flags 0 | method 0 | time 0 | date 0x21 (1980-01-01)
 *     | crc-32 | compressed size | uncompressed size | name length | extra length 0 | name
 *   the central directory, per entry (46 bytes + name):
 *     sig 0x02014b50 | version made by 20 | version needed 20 | flags | method | time | date
 *     | crc-32 | sizes | name length | extra 0 | comment 0 | disk 0 | internal 0 | external 0
 *     | offset of the local header | name
 *   the end of central directory record (22 bytes):
 *     sig 0x06054b50 | disk 0 | disk of the directory 0 | entries here | entries | directory
 *     size | directory offset | comment length 0
 * CRC-32 is the zip one: reflected polynomial 0xEDB88320, initial value and final xor ~0.
 *
 * The loader walks the central directory, checks every signature, refuses encryption, methods
 * other than 0, zip64 sizes in the directory, entries out of bounds and CRC mismatches, then
 * decodes each .npy and matches it to the model's parameter of that name and shape. Local
 * headers whose sizes are 0xFFFFFFFF (zip64 extra, as NumPy's own savez writes) or zero with
 * flag bit 3 are accepted; the central directory's sizes are used. */
#include <stdio.h>
#include <string.h>

#include "io/npy.h"
#include "io/npz.h"
#include "model/model.h"
#include "tape/alloc.h"
#include "tape/error.h"

/* bitwise CRC-32: for each byte, 8 shifts of the reflected polynomial */
uint32_t wg_crc32(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

#define LOCAL_SIG 0x04034b50u
#define CENTRAL_SIG 0x02014b50u
#define END_SIG 0x06054b50u

/* ---- writing --------------------------------------------------------------------------------- */

typedef wg_npz_entry entry;

void wg_npz_free_entries(wg_npz_entry *e, int n) {
  for (int i = 0; e && i < n; i++) wg_free(e[i].npy, e[i].len);
  wg_free(e, (size_t)n * sizeof *e);
}

static unsigned char *put_local(unsigned char *p, const entry *e) {
  size_t nl = strlen(e->name);
  wg_put32(p, LOCAL_SIG), wg_put16(p + 4, 20), wg_put16(p + 6, 0), wg_put16(p + 8, 0);
  wg_put16(p + 10, 0), wg_put16(p + 12, 0x21), wg_put32(p + 14, e->crc);
  wg_put32(p + 18, (uint32_t)e->len), wg_put32(p + 22, (uint32_t)e->len);
  wg_put16(p + 26, (uint32_t)nl), wg_put16(p + 28, 0);
  memcpy(p + 30, e->name, nl);
  memcpy(p + 30 + nl, e->npy, e->len);
  return p + 30 + nl + e->len;
}

static unsigned char *put_central(unsigned char *p, const entry *e) {
  size_t nl = strlen(e->name);
  memset(p, 0, 46);
  wg_put32(p, CENTRAL_SIG), wg_put16(p + 4, 20), wg_put16(p + 6, 20);
  wg_put16(p + 14, 0x21), wg_put32(p + 16, e->crc);
  wg_put32(p + 20, (uint32_t)e->len), wg_put32(p + 24, (uint32_t)e->len);
  wg_put16(p + 28, (uint32_t)nl), wg_put32(p + 42, e->offset);
  memcpy(p + 46, e->name, nl);
  return p + 46 + nl;
}

/* Write entries e[0..n) (name and .npy bytes set) as a stored zip at path; errors go to m. */
wg_status wg_npz_write(wg_model *m, const char *path, wg_npz_entry *e, int n) {
  if (n > 65535) return wg_model_fail(m, WG_ERR_ARG, "%s: more than 65535 entries", path);
  wg_status st = WG_OK;
  size_t total = 22, dir = 0;
  for (int i = 0; i < n && !st; i++) {
    e[i].crc = wg_crc32(e[i].npy, e[i].len);
    e[i].offset = (uint32_t)(total - 22 - dir);
    size_t nl = strlen(e[i].name);
    dir += 46 + nl;
    if (!wg_add_size(total, 30 + 46 + 2 * nl, &total) || !wg_add_size(total, e[i].len, &total) ||
        total > 0xFFFFFFFFu)
      st = wg_model_fail(m, WG_ERR_ARG, "%s: over 4 GiB needs zip64, which is not written",
                         path);
  }
  unsigned char *buf = st ? NULL : wg_alloc(total);
  if (!st && !buf) st = wg_model_fail(m, WG_ERR_NOMEM, "%s: out of memory", path);
  if (!st) {
    unsigned char *p = buf;
    for (int i = 0; i < n; i++) p = put_local(p, &e[i]);
    size_t dir_off = (size_t)(p - buf);
    for (int i = 0; i < n; i++) p = put_central(p, &e[i]);
    wg_put32(p, END_SIG), wg_put16(p + 4, 0), wg_put16(p + 6, 0);
    wg_put16(p + 8, (uint32_t)n), wg_put16(p + 10, (uint32_t)n);
    wg_put32(p + 12, (uint32_t)dir), wg_put32(p + 16, (uint32_t)dir_off), wg_put16(p + 20, 0);
    char msg[200];
    st = wg_file_write(path, buf, total, msg, sizeof msg);
    if (st) wg_model_fail(m, st, "%s", msg);
    wg_free(buf, total);
  }
  return st;
}

wg_status wg_model_save(wg_model *m, const char *path) {
  if (!m) {
    wg_set_last_error("wg_model_save: the model is NULL (wg_model_new failed?)");
    return WG_ERR_ARG;
  }
  if (!path) return wg_model_fail(m, WG_ERR_ARG, "wg_model_save: path is NULL");
  if (m->n == 0) return wg_model_fail(m, WG_ERR_STATE, "wg_model_save: the model is empty");
  if (m->n > 65535) return wg_model_fail(m, WG_ERR_ARG, "wg_model_save: more than 65535 entries");
  entry *e = wg_alloc_zero((size_t)m->n * sizeof *e);
  if (!e) return wg_model_fail(m, WG_ERR_NOMEM, "wg_model_save: out of memory");
  wg_status st = WG_OK;
  for (int i = 0; i < m->n && !st; i++) {
    wg_param *p = m->params[i];
    snprintf(e[i].name, sizeof e[i].name, "%s.npy", p->name);
    char msg[200];
    st = wg_npy_encode(wg_param_value(p), 2, 0, &e[i].npy, &e[i].len, msg, sizeof msg);
    if (st) wg_model_fail(m, st, "%s: %s: %s", path, e[i].name, msg);
  }
  if (!st) st = wg_npz_write(m, path, e, m->n);
  wg_npz_free_entries(e, m->n);
  if (!st) m->error[0] = 0;
  return st;
}

/* ---- reading --------------------------------------------------------------------------------- */

/* the end record: the last END_SIG whose comment length reaches exactly the end of the file */
static long find_end(const unsigned char *b, size_t len) {
  if (len < 22) return -1;
  size_t lo = len - 22 > 65535 ? len - 22 - 65535 : 0;
  for (size_t i = len - 22 + 1; i-- > lo;)
    if (wg_le32(b + i) == END_SIG && i + 22 + wg_le16(b + i + 20) == len) return (long)i;
  return -1;
}

/* one stored entry: its .npy bytes [*data, *data + *size) after the checks */
static wg_status read_entry(wg_model *m, const char *path, const unsigned char *b, size_t dir_off,
                            size_t *pos, size_t dir_end, char *name, const unsigned char **data,
                            size_t *size) {
  /* bounds are compared by subtraction (c <= dir_end <= dir_off + ... < len), so no sum can
   * wrap where size_t is 32 bits and an offset near 2^32 */
  size_t c = *pos;
  if (dir_end - c < 46 || wg_le32(b + c) != CENTRAL_SIG)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: bad central directory entry at byte %zu "
                         "(expected signature 0x02014b50)", path, c);
  uint32_t flags = wg_le16(b + c + 8), method = wg_le16(b + c + 10), crc = wg_le32(b + c + 16);
  uint32_t csize = wg_le32(b + c + 20), usize = wg_le32(b + c + 24);
  size_t nl = wg_le16(b + c + 28), xl = wg_le16(b + c + 30), cl = wg_le16(b + c + 32);
  size_t off = wg_le32(b + c + 42);
  if (nl + xl + cl > dir_end - c - 46)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: central directory entry at byte %zu runs past "
                         "the directory", path, c);
  if (nl == 0 || nl >= WG_NPZ_NAME)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: entry name of %zu bytes at byte %zu", path, nl,
                         c);
  memcpy(name, b + c + 46, nl);
  name[nl] = 0;
  *pos = c + 46 + nl + xl + cl;
  if (flags & 1)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s is encrypted", path, name);
  if (method != 0)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s uses compression method %u: expected 0 "
                         "(stored; write with numpy.savez, not savez_compressed)", path, name,
                         (unsigned)method);
  if (csize == 0xFFFFFFFFu || usize == 0xFFFFFFFFu || off == 0xFFFFFFFFu)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s needs zip64, which is not supported", path,
                         name);
  if (csize != usize)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s: stored sizes differ (%u vs %u)", path, name,
                         (unsigned)csize, (unsigned)usize);
  /* the local header */
  if (off > dir_off || dir_off - off < 30 || wg_le32(b + off) != LOCAL_SIG)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s: no local header at byte %zu (expected "
                         "signature 0x04034b50)", path, name, off);
  uint32_t lflags = wg_le16(b + off + 6), lcrc = wg_le32(b + off + 14);
  uint32_t lcs = wg_le32(b + off + 18), lus = wg_le32(b + off + 22);
  size_t lnl = wg_le16(b + off + 26), lxl = wg_le16(b + off + 28);
  if (wg_le16(b + off + 8) != 0)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s: local header says method %u: expected 0",
                         path, name, (unsigned)wg_le16(b + off + 8));
  size_t room = dir_off - off - 30; /* bytes between the local header and the directory */
  if (lnl != nl || lnl > room || memcmp(b + off + 30, name, nl) != 0)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s: local header names another file", path,
                         name);
  int deferred = (lflags & 8) && lcs == 0 && lus == 0 && lcrc == 0;
  int zip64 = lcs == 0xFFFFFFFFu && lus == 0xFFFFFFFFu;
  if (!deferred && !zip64 && (lcs != csize || lus != usize))
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s: local header sizes (%u, %u) differ from the "
                         "central directory (%u, %u)", path, name, (unsigned)lcs, (unsigned)lus,
                         (unsigned)csize, (unsigned)usize);
  size_t start = off + 30 + lnl + lxl; /* lnl <= room, lxl < 2^16: no wrap */
  if (lxl > room - lnl || csize > room - lnl - lxl)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s: %u data bytes at byte %zu run past the data "
                         "area (truncated?)", path, name, (unsigned)csize, start);
  uint32_t got = wg_crc32(b + start, csize);
  if (got != crc || (!deferred && lcrc != crc))
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s: CRC-32 mismatch (stored %08x, local %08x, "
                         "data %08x): the file is corrupt", path, name, (unsigned)crc,
                         (unsigned)lcrc, (unsigned)got);
  *data = b + start, *size = csize;
  return WG_OK;
}

/* Check the archive and hand each entry (its name without .npy, its .npy bytes) to visit. */
wg_status wg_npz_walk(wg_model *m, const char *path, const unsigned char *b, size_t len,
                      wg_npz_visit visit, void *ctx) {
  long e = find_end(b, len);
  if (e < 0)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: not a zip file: no end of central directory "
                         "record (signature 0x06054b50) in its last bytes (%zu bytes in all)",
                         path, len);
  const unsigned char *end = b + e;
  uint32_t here = wg_le16(end + 8), count = wg_le16(end + 10);
  size_t dir_size = wg_le32(end + 12), dir_off = wg_le32(end + 16);
  if (wg_le16(end + 4) != 0 || wg_le16(end + 6) != 0 || here != count)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: multi-disk zip archives are not supported", path);
  if (dir_off > (size_t)e || dir_size > (size_t)e - dir_off)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: central directory (offset %zu, %zu bytes) lies "
                         "outside the file (end record at byte %ld): truncated?", path, dir_off,
                         dir_size, e);
  size_t pos = dir_off, dir_end = dir_off + dir_size;
  for (uint32_t k = 0; k < count; k++) {
    char name[WG_NPZ_NAME];
    const unsigned char *data = NULL;
    size_t size = 0;
    wg_status st = read_entry(m, path, b, dir_off, &pos, dir_end, name, &data, &size);
    if (st) return st;
    size_t nl = strlen(name);
    if (nl < 5 || strcmp(name + nl - 4, ".npy") != 0)
      return wg_model_fail(m, WG_ERR_FORMAT, "%s: entry %s is not a .npy file", path, name);
    name[nl - 4] = 0;
    if ((st = visit(ctx, name, data, size))) return st;
  }
  if (pos != dir_end)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: central directory size %zu does not match its "
                         "%u entries", path, dir_size, (unsigned)count);
  return WG_OK;
}

/* the model's parameters: each entry must be one of them, once, with its shape */
typedef struct {
  wg_model *m;
  const char *path;
  wg_mat *vals; /* indexed like m->params */
} params_ctx;

static wg_status visit_param(void *arg, const char *name, const unsigned char *data,
                             size_t size) {
  params_ctx *c = arg;
  wg_model *m = c->m;
  const char *path = c->path;
  int i = 0;
  while (i < m->n && strcmp(m->params[i]->name, name) != 0) i++;
  if (i == m->n)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s.npy: the model has no parameter %s", path,
                         name, name);
  if (c->vals[i].data)
    return wg_model_fail(m, WG_ERR_FORMAT, "%s: %s.npy appears twice", path, name);
  char what[WG_NPZ_NAME + 8], msg[300];
  snprintf(what, sizeof what, "%s.npy", name);
  wg_status st = wg_npy_decode(data, size, what, &c->vals[i], msg, sizeof msg);
  if (st) return wg_model_fail(m, st, "%s: %s", path, msg);
  const wg_param *p = m->params[i];
  if (c->vals[i].rows != p->rows || c->vals[i].cols != p->cols)
    return wg_model_fail(m, WG_ERR_SHAPE, "%s: %s.npy is (%dx%d), the model's %s is (%dx%d)",
                         path, name, c->vals[i].rows, c->vals[i].cols, name, p->rows, p->cols);
  return WG_OK;
}

static wg_status load_all(wg_model *m, const char *path, const unsigned char *b, size_t len,
                          wg_mat *vals) {
  params_ctx c = {m, path, vals};
  wg_status st = wg_npz_walk(m, path, b, len, visit_param, &c);
  if (st) return st;
  for (int i = 0; i < m->n; i++)
    if (!vals[i].data)
      return wg_model_fail(m, WG_ERR_FORMAT, "%s: no %s.npy for the model's parameter %s", path,
                           m->params[i]->name, m->params[i]->name);
  return WG_OK;
}

wg_status wg_model_load(wg_model *m, const char *path) {
  if (!m) {
    wg_set_last_error("wg_model_load: the model is NULL (wg_model_new failed?)");
    return WG_ERR_ARG;
  }
  if (!path) return wg_model_fail(m, WG_ERR_ARG, "wg_model_load: path is NULL");
  if (m->n == 0) return wg_model_fail(m, WG_ERR_STATE, "wg_model_load: the model is empty");
  unsigned char *buf;
  size_t len;
  char msg[256];
  wg_status st = wg_file_read(path, &buf, &len, msg, sizeof msg);
  if (st) return wg_model_fail(m, st, "%s", msg);
  wg_mat *vals = wg_alloc_zero((size_t)m->n * sizeof *vals);
  if (!vals) st = wg_model_fail(m, WG_ERR_NOMEM, "%s: out of memory", path);
  else st = load_all(m, path, buf, len, vals);
  for (int i = 0; vals && i < m->n; i++) {
    if (!st) memcpy(m->params[i]->value, vals[i].data, (size_t)vals[i].rows * vals[i].cols *
                                                           sizeof *vals[i].data);
    wg_npy_free(&vals[i]);
  }
  wg_free(vals, (size_t)m->n * sizeof *vals);
  wg_free(buf, len + 1);
  if (!st) m->error[0] = 0;
  return st;
}
