/*
 * AdCopy Desktop's AppImage runtime.
 *
 * Layout (the AppImage type-2 layout): this static ELF executable, with the bytes 'A','I',0x02 in
 * e_ident's padding at file offset 8 (written after linking), followed directly by a squashfs
 * image of the AppDir. The image starts where the ELF file ends, at the end of the section header
 * table (e_shoff + e_shnum * e_shentsize), as the AppImage specification computes it.
 *
 * It never mounts the image: it reads it with libsquashfuse's library API and extracts it. A FUSE
 * mount would need libfuse linked statically (no distribution ships a static libfuse) and a
 * working /dev/fuse with fusermount, which containers, CI runners and many VMs do not have.
 *
 *   plain start          extract once into ${XDG_CACHE_HOME:-~/.cache}/adcopy-appimage/<id>, then
 *                        exec AppRun; later starts of the same image reuse that folder. The folder
 *                        is complete when it holds MARKER; every start holds a shared flock on
 *                        MARKER for as long as the program runs (the descriptor survives the exec)
 *                        and removes the complete folders of other ids that nobody holds (see
 *                        prune_cache; ADCOPY_APPIMAGE_KEEP_OLD=1 keeps them)
 *   --appimage-extract-and-run (or APPIMAGE_EXTRACT_AND_RUN=1)
 *                        extract into $TMPDIR/appimage_extracted_<id>, run AppRun, remove the
 *                        folder afterwards (unless NO_CLEANUP=1), exit with AppRun's status
 *   --appimage-extract [PATTERN], --appimage-offset, --appimage-help, --appimage-version
 *
 * Build: packaging/linux/appimage/build_runtime.sh (cc -static, libsquashfuse.a + decompressors).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* squashfuse's config.h sets _POSIX_C_SOURCE; the system headers above already chose GNU. */
#undef _POSIX_C_SOURCE
#include <squashfuse/squashfuse.h>

#define RUNTIME_VERSION "1.1"
#define CACHE_NAME "adcopy-appimage"
/* written into a cache folder after everything else, before the folder gets its final name;
 * its content names the id, so a folder copied or renamed by hand is never taken for another */
#define MARKER ".adcopy-appimage-complete"
#define MARKER_TEXT "adcopy-appimage complete "
#define BUF_SIZE (256 * 1024)

static const char *prog = "AppImage";  /* the image's file name, for messages */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- the image: offset, identity, opening --------------------------------------------------- */

/* The squashfs image begins where the ELF file ends: after the section header table. */
static off_t elf_end(int fd, char magic[3]) {
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG))
        return -1;
    memcpy(magic, eh.e_ident + 8, 3);
    if (eh.e_ident[EI_CLASS] == ELFCLASS64)
        return (off_t)(eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize);
    if (eh.e_ident[EI_CLASS] == ELFCLASS32) {
        Elf32_Ehdr e32;
        memcpy(&e32, &eh, sizeof e32);
        return (off_t)(e32.e_shoff + (uint32_t)e32.e_shnum * e32.e_shentsize);
    }
    return -1;
}

typedef struct {
    char path[PATH_MAX];   /* absolute path of the AppImage file */
    off_t offset;          /* where the squashfs image starts */
    off_t size;            /* the file's size */
    char id[17];           /* 16 hex digits naming this image (cache and temporary folders) */
    sqfs fs;
    int fd;
} image_t;

/* FNV-1a over the superblock (it holds the image's size, creation time and table positions),
 * the file size and the offset: a rebuilt or replaced AppImage gets a new folder. */
static void image_id(image_t *im) {
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *parts[3] = {(const void *)&im->fs.sb, (const void *)&im->size,
                                     (const void *)&im->offset};
    size_t sizes[3] = {sizeof im->fs.sb, sizeof im->size, sizeof im->offset};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < sizes[p]; i++) h = (h ^ parts[p][i]) * 1099511628211ULL;
    snprintf(im->id, sizeof im->id, "%016llx", (unsigned long long)h);
}

static void image_open(image_t *im) {
    if (!realpath("/proc/self/exe", im->path)) die("cannot find its own file: %s", strerror(errno));
    const char *slash = strrchr(im->path, '/');
    prog = slash ? slash + 1 : im->path;
    im->fd = open(im->path, O_RDONLY | O_CLOEXEC);
    if (im->fd < 0) die("cannot read %s: %s", im->path, strerror(errno));
    struct stat st;
    if (fstat(im->fd, &st)) die("cannot read %s: %s", im->path, strerror(errno));
    im->size = st.st_size;
    char magic[3];
    im->offset = elf_end(im->fd, magic);
    if (im->offset < 0 || memcmp(magic, "AI\x02", 3))
        die("%s is not an AppImage (no ELF header with the AppImage type-2 magic)", im->path);
    if (im->offset >= im->size)
        die("%s is damaged: no squashfs image after the runtime (file ends at byte %lld)", im->path,
            (long long)im->size);
    /* A cut-off download: the superblock says how long the image is (checked before the library
     * reads the tables at the image's end). */
    struct squashfs_super_block sb;
    if (pread(im->fd, &sb, sizeof sb, im->offset) == (ssize_t)sizeof sb &&
        sb.s_magic == SQUASHFS_MAGIC && (uint64_t)im->offset + sb.bytes_used > (uint64_t)im->size)
        die("%s is damaged: truncated (the image needs %llu bytes after offset %lld, the file has "
            "%lld); download it again", im->path, (unsigned long long)sb.bytes_used,
            (long long)im->offset, (long long)(im->size - im->offset));
    sqfs_err err = sqfs_init(&im->fs, im->fd, (size_t)im->offset);
    if (err == SQFS_BADCOMP)
        die("%s uses a squashfs compression this runtime cannot read (compression id %d)", im->path,
            (int)im->fs.sb.compression);
    if (err != SQFS_OK)
        die("%s is damaged: no valid squashfs image at offset %lld (%s)", im->path,
            (long long)im->offset, err == SQFS_BADVERSION ? "unsupported squashfs version"
                                                          : "bad superblock or tables");
    image_id(im);
}

/* ---- extraction ----------------------------------------------------------------------------- */

typedef struct {
    char **paths;
    mode_t *modes;
    size_t n, cap;
} dirlist_t;

static void dirlist_add(dirlist_t *dl, const char *path, mode_t mode) {
    if (dl->n == dl->cap) {
        dl->cap = dl->cap ? dl->cap * 2 : 256;
        dl->paths = realloc(dl->paths, dl->cap * sizeof *dl->paths);
        dl->modes = realloc(dl->modes, dl->cap * sizeof *dl->modes);
        if (!dl->paths || !dl->modes) die("out of memory");
    }
    dl->paths[dl->n] = strdup(path);
    dl->modes[dl->n++] = mode;
}

/* Error text for a failed write: a full disk gets said plainly. */
static const char *write_error(int e) {
    return e == ENOSPC ? "no space left on the disk (disk full)"
         : e == EDQUOT ? "disk quota exceeded"
                       : strerror(e);
}

/* The errno of the last write, create or rename that failed while unpacking (0: none). */
static int write_failed;

static int fail_write(const char *what, const char *path) {
    int e = errno;
    write_failed = e;
    fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, write_error(e));
    return -1;
}

static int no_space(int e) { return e == ENOSPC || e == EDQUOT; }

/* mkdir -p for the parents of path (a PATTERN extraction skips the directories in between). */
static int make_parents(char *path) {
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = 0;
        int r = mkdir(path, 0755);
        *p = '/';
        if (r && errno != EEXIST) return -1;
    }
    return 0;
}

static int extract_file(image_t *im, sqfs_inode *inode, const char *dest, char *buf) {
    unlink(dest);  /* extracting over an older copy: never write into a running executable */
    int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) return fail_write("cannot create", dest);
    uint64_t total = inode->xtra.reg.file_size;
    for (uint64_t pos = 0; pos < total;) {
        sqfs_off_t n = (sqfs_off_t)(total - pos < BUF_SIZE ? total - pos : BUF_SIZE);
        if (sqfs_read_range(&im->fs, inode, (sqfs_off_t)pos, &n, buf) != SQFS_OK || n <= 0) {
            fprintf(stderr, "%s: %s is damaged: cannot decompress the data of %s\n", prog, im->path,
                    dest);
            close(out);
            return -1;
        }
        for (sqfs_off_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0) {
                if (errno == EINTR) continue;
                fail_write("cannot write", dest);
                close(out);
                return -1;
            }
            done += w;
        }
        pos += (uint64_t)n;
    }
    /* the mode last: read-only files stay writable until they are complete */
    if (fchmod(out, inode->base.mode & 07777) || close(out)) return fail_write("cannot write", dest);
    return 0;
}

static int extract_symlink(image_t *im, sqfs_inode *inode, const char *dest) {
    size_t size = 0;
    if (sqfs_readlink(&im->fs, inode, NULL, &size) != SQFS_OK) return -1;
    char *target = malloc(size + 1);
    if (!target) die("out of memory");
    size_t cap = size + 1;
    if (sqfs_readlink(&im->fs, inode, target, &cap) != SQFS_OK) {
        free(target);
        fprintf(stderr, "%s: %s is damaged: cannot read the link %s\n", prog, im->path, dest);
        return -1;
    }
    unlink(dest);
    int r = symlink(target, dest);
    if (r) fail_write("cannot create", dest);
    free(target);
    return r;
}

/* Extract every entry (or those whose path matches pattern) below dest. Returns 0 or -1 (the
 * message is printed). Directories get their modes at the end, so a read-only directory can
 * still be filled. */
static int extract(image_t *im, const char *dest, const char *pattern, size_t *count) {
    if (mkdir(dest, 0755) && errno != EEXIST) return fail_write("cannot create", dest);
    sqfs_traverse trv;
    sqfs_err err = sqfs_traverse_open(&trv, &im->fs, sqfs_inode_root(&im->fs));
    if (err != SQFS_OK) {
        fprintf(stderr, "%s: %s is damaged: cannot read its root directory\n", prog, im->path);
        return -1;
    }
    char *buf = malloc(BUF_SIZE), target[PATH_MAX];
    dirlist_t dirs = {0};
    int rc = 0;
    *count = 0;
    while (rc == 0 && sqfs_traverse_next(&trv, &err)) {
        if (trv.dir_end) continue;
        const char *name = sqfs_dentry_name(&trv.entry);
        if (!strcmp(name, ".") || !strcmp(name, "..") || strstr(trv.path, "../")) {
            fprintf(stderr, "%s: %s is damaged: bad entry name %s\n", prog, im->path, trv.path);
            rc = -1;
            break;
        }
        if (pattern && fnmatch(pattern, trv.path, 0) != 0) continue;
        if (snprintf(target, sizeof target, "%s/%s", dest, trv.path) >= (int)sizeof target) {
            fprintf(stderr, "%s: path too long: %s\n", prog, trv.path);
            rc = -1;
            break;
        }
        sqfs_inode inode;
        if (sqfs_inode_get(&im->fs, &inode, sqfs_dentry_inode(&trv.entry)) != SQFS_OK) {
            fprintf(stderr, "%s: %s is damaged: cannot read the entry %s\n", prog, im->path,
                    trv.path);
            rc = -1;
            break;
        }
        if (pattern && make_parents(target)) {
            rc = fail_write("cannot create the folders of", target);
            break;
        }
        mode_t type = sqfs_mode(inode.base.inode_type) & S_IFMT;
        if (S_ISDIR(type)) {
            struct stat st;
            if (lstat(target, &st) == 0 && !S_ISDIR(st.st_mode)) unlink(target);
            if (mkdir(target, 0700) && errno != EEXIST) {
                rc = fail_write("cannot create", target);
            } else {
                chmod(target, 0700);
                dirlist_add(&dirs, target, inode.base.mode & 07777);
            }
        } else if (S_ISREG(type)) {
            rc = extract_file(im, &inode, target, buf);
        } else if (S_ISLNK(type)) {
            rc = extract_symlink(im, &inode, target);
        } else {
            continue;  /* devices, fifos, sockets: an AppDir has none */
        }
        (*count)++;
    }
    if (rc == 0 && err != SQFS_OK) {
        fprintf(stderr, "%s: %s is damaged: cannot read its directory tables\n", prog, im->path);
        rc = -1;
    }
    sqfs_traverse_close(&trv);
    for (size_t i = dirs.n; i-- > 0;) {  /* deepest first */
        if (rc == 0) chmod(dirs.paths[i], dirs.modes[i]);
        free(dirs.paths[i]);
    }
    free(dirs.paths);
    free(dirs.modes);
    free(buf);
    return rc;
}

/* ---- removing a folder (rm -rf, read-only directories included) ------------------------------ */

/* Remove the entry name of the folder open as parent, and everything below it. Symlinks are never
 * followed: a link is unlinked, never what it points to, and every folder is opened relative to
 * its parent with O_NOFOLLOW, so nothing outside the starting folder is touched. */
static void remove_at(int parent, const char *name, int depth) {
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return;
    if (depth > 200) return;  /* an AppDir is nowhere near that deep */
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    fchmod(fd, 0700);  /* a read-only folder must be writable to empty it */
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            remove_at(dirfd(d), e->d_name, depth + 1);
    closedir(d);
    unlinkat(parent, name, AT_REMOVEDIR);
}

static void remove_tree(const char *path) {
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    const char *name = path;
    if (slash == parent) {
        parent[1] = 0;
        name = path + 1;
    } else if (slash) {
        *slash = 0;
        name = path + (slash - parent) + 1;
    } else {
        snprintf(parent, sizeof parent, ".");
    }
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    remove_at(fd, name, 0);
    close(fd);
}

/* ---- disk space ----------------------------------------------------------------------------- */

/* What a full extraction writes: the bytes of its regular files; about what they take on disk
 * (each file and folder in whole 4 KB blocks, as du counts them); its number of entries. */
static int image_usage(image_t *im, uint64_t *bytes, uint64_t *disk, uint64_t *entries) {
    sqfs_traverse trv;
    sqfs_err err = SQFS_OK;
    if (sqfs_traverse_open(&trv, &im->fs, sqfs_inode_root(&im->fs)) != SQFS_OK) return -1;
    *bytes = *disk = *entries = 0;
    while (sqfs_traverse_next(&trv, &err)) {
        if (trv.dir_end) continue;
        sqfs_inode inode;
        if (sqfs_inode_get(&im->fs, &inode, sqfs_dentry_inode(&trv.entry)) != SQFS_OK) {
            err = SQFS_ERR;
            break;
        }
        (*entries)++;
        mode_t type = sqfs_mode(inode.base.inode_type) & S_IFMT;
        if (S_ISREG(type)) {
            *bytes += inode.xtra.reg.file_size;
            *disk += (inode.xtra.reg.file_size + 4095) / 4096 * 4096;
        } else if (S_ISDIR(type)) {
            *disk += 4096;
        }
    }
    sqfs_traverse_close(&trv);
    return err == SQFS_OK ? 0 : -1;
}

static void megabytes(char *out, size_t size, uint64_t bytes) {
    snprintf(out, size, "%llu MB", (unsigned long long)((bytes + (1 << 20) - 1) >> 20));
}

/* What to do when a folder has no room, per kind of extraction. */
#define ADVICE_CACHE                                                                              \
    "Free some space on that disk and start it again; or point XDG_CACHE_HOME at a folder on a "  \
    "disk with more room (XDG_CACHE_HOME=/path/with/room ./%s); or start it with "                \
    "--appimage-extract-and-run, which unpacks into $TMPDIR instead for one run (it needs the "   \
    "same room there)."
#define ADVICE_TMP                                                                                \
    "Free some space there; or set TMPDIR to a folder on a disk with more room "                  \
    "(TMPDIR=/path/with/room ./%s --appimage-extract-and-run); or start it without "              \
    "--appimage-extract-and-run (and without APPIMAGE_EXTRACT_AND_RUN=1): it then unpacks once "  \
    "into ${XDG_CACHE_HOME:-~/.cache}/" CACHE_NAME "."
#define ADVICE_HERE                                                                               \
    "Free some space there, or run ./%s --appimage-extract from a folder on a disk with more room."

/* The unpacked image does not fit into dir: say so, with the sizes, and what to do. stopped: the
 * extraction began and ran out of room (its files are removed already); e: ENOSPC or EDQUOT. */
static void die_no_space(const char *dir, uint64_t need, const char *advice, int stopped, int e)
    __attribute__((noreturn));
static void die_no_space(const char *dir, uint64_t need, const char *advice, int stopped, int e) {
    char need_s[32] = "", free_s[64] = "";
    struct statvfs vs;
    if (need) megabytes(need_s, sizeof need_s, need);
    if (statvfs(dir, &vs) == 0) {
        megabytes(free_s, sizeof free_s - 16, (uint64_t)vs.f_bavail * vs.f_frsize);
        strcat(free_s, " free");
    }
    if (stopped)
        fprintf(stderr, "%s: not enough disk space: unpacking the image into %s stopped because %s.\n"
                "%s: Unpacked, the image takes about %s%s%s%s. What it had written is removed "
                "again: nothing half-unpacked is left behind.\n", prog, dir,
                e == EDQUOT ? "your disk quota is used up" : "the disk is full", prog,
                need ? need_s : "as much room as its files", free_s[0] ? " (" : "", free_s,
                free_s[0] ? " there now)" : "");
    else
        fprintf(stderr, "%s: not enough disk space to unpack the image into %s: it needs about %s, "
                "%s there.\n", prog, dir, need_s, free_s[0] ? free_s : "less is");
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, advice, prog);
    fputc('\n', stderr);
    exit(1);
}

/* Before writing anything: refuse when the image's files alone cannot fit into dir (their bytes
 * exceed the room free, or their number the free inodes where the filesystem counts them: never
 * a refusal of what would fit). Returns about what it takes on disk, for messages (0: unknown). */
static uint64_t check_space(image_t *im, const char *dir, const char *advice) {
    uint64_t bytes, disk, entries;
    if (image_usage(im, &bytes, &disk, &entries)) return 0;  /* damaged: the extraction says so */
    struct statvfs vs;
    if (statvfs(dir, &vs)) return disk;
    if (bytes > (uint64_t)vs.f_bavail * vs.f_frsize || (vs.f_files > 0 && vs.f_favail < entries))
        die_no_space(dir, disk, advice, 0, ENOSPC);
    return disk;
}

/* ---- running AppRun ------------------------------------------------------------------------- */

static void set_env(image_t *im, const char *appdir, const char *argv0) {
    char cwd[PATH_MAX];
    setenv("APPIMAGE", im->path, 1);
    setenv("APPDIR", appdir, 1);
    setenv("ARGV0", argv0, 1);
    if (getcwd(cwd, sizeof cwd)) setenv("OWD", cwd, 1);
}

static void apprun_path(char *out, size_t size, const char *appdir) {
    snprintf(out, size, "%s/AppRun", appdir);
    if (access(out, X_OK)) die("the image has no executable AppRun (%s)", strerror(errno));
}

static volatile pid_t child_pid;
static void forward_signal(int sig) {
    if (child_pid > 0) kill(child_pid, sig);
}

static int extract_and_run(image_t *im, char **argv, int argc) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    char dir[PATH_MAX], apprun[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/appimage_extracted_%s", tmp, im->id);
    size_t count;
    uint64_t need = check_space(im, tmp, ADVICE_TMP);
    write_failed = 0;
    if (extract(im, dir, NULL, &count)) {
        remove_tree(dir);
        if (no_space(write_failed)) die_no_space(tmp, need, ADVICE_TMP, 1, write_failed);
        die("could not extract the image into %s", dir);
    }
    apprun_path(apprun, sizeof apprun, dir);
    set_env(im, dir, argv[0]);
    char **args = calloc((size_t)argc + 1, sizeof *args);
    args[0] = apprun;
    for (int i = 1; i < argc; i++) args[i] = argv[i];
    /* the terminal's Ctrl-C reaches AppRun itself; a kill of this process is passed on */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTERM, forward_signal);
    signal(SIGHUP, forward_signal);
    pid_t pid = fork();
    if (pid < 0) die("cannot start AppRun: %s", strerror(errno));
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execv(apprun, args);
        fprintf(stderr, "%s: cannot run %s: %s\n", prog, apprun, strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    const char *keep = getenv("NO_CLEANUP");
    if (!(keep && !strcmp(keep, "1"))) remove_tree(dir);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

/* The per-user cache: ${XDG_CACHE_HOME:-$HOME/.cache}/adcopy-appimage. */
static void cache_base(char *out, size_t size) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, size, "%s/" CACHE_NAME, xdg);
    else if (home && home[0] == '/')
        snprintf(out, size, "%s/.cache/" CACHE_NAME, home);
    else
        die("cannot find a cache folder (neither XDG_CACHE_HOME nor HOME is set); "
            "use --appimage-extract-and-run");
}

/* A cache folder's name: the id, 16 lowercase hex digits. */
static int is_id(const char *name) {
    size_t n = strspn(name, "0123456789abcdef");
    return n == 16 && name[16] == 0;
}

/* Leftovers named .<id>.partial-<pid> (an extraction) or .<id>.pruning-<pid> (a folder being
 * removed) whose process is gone: a start that was killed or ran out of disk. */
static int is_stale_leftover(const char *name) {
    if (name[0] != '.') return 0;
    const char *p = strstr(name, ".partial-");
    if (!p) p = strstr(name, ".pruning-");
    if (!p) return 0;
    char *end;
    long pid = strtol(p + 9, &end, 10);
    return pid > 0 && *end == 0 && (pid == getpid() || (kill((pid_t)pid, 0) && errno == ESRCH));
}

/* Whether the folder open as dfd is a complete cache folder of image id: it holds MARKER, a
 * regular file naming id. Returns the marker opened (not O_CLOEXEC when keep is set), or -1. */
static int open_marker(int dfd, const char *id, int keep) {
    int fd = openat(dfd, MARKER, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | (keep ? 0 : O_CLOEXEC));
    if (fd < 0) return -1;
    char want[64], got[64];
    int n = snprintf(want, sizeof want, MARKER_TEXT "%s\n", id);
    struct stat st;
    ssize_t r = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(fd, got, sizeof got, 0) : -1;
    if (r != n || memcmp(got, want, (size_t)n)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Write dir's marker; returns it opened read-only with the shared lock taken (not O_CLOEXEC: the
 * program keeps it), or -1. Locked before the folder gets its final name, so that no other start
 * can take the new folder for an unused one in between. */
static int write_marker(const char *dir, const char *id) {
    char path[PATH_MAX + 128], text[64];
    snprintf(path, sizeof path, "%s/" MARKER, dir);
    int n = snprintf(text, sizeof text, MARKER_TEXT "%s\n", id);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd < 0) return fail_write("cannot create", path);
    errno = ENOSPC;  /* a short write without an error: the disk filled up */
    if (write(fd, text, (size_t)n) != n) {
        fail_write("cannot write", path);
        close(fd);
        return -1;
    }
    if (close(fd)) return fail_write("cannot write", path);
    fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0) return fail_write("cannot read", path);
    while (flock(fd, LOCK_SH) && errno == EINTR) {}
    return fd;
}

/* Remove the folders of other images from the cache base (open as bfd): those named by an id
 * other than own_id, complete (MARKER naming that id) and used by no running AppImage (the
 * exclusive flock on MARKER is granted: every start holds a shared one while its program runs).
 * Each is first renamed to .<id>.pruning-<pid>, under the lock, so a start of that image never
 * sees a half-removed folder; only then are its files removed, in the background when background
 * is set (a later start: the program is not kept waiting), else before returning (a first start:
 * the room is needed for the new folder). Leftovers of killed starts are removed the same way.
 * Everything else in the base (other names, symlinks, files, folders without the marker, such as
 * those of runtime 1.0) is left alone. ADCOPY_APPIMAGE_KEEP_OLD=1 keeps the other images' folders. */
static void prune_cache(int bfd, const char *own_id, int background, int keep_fd) {
    const char *keep_old = getenv("ADCOPY_APPIMAGE_KEEP_OLD");
    int prune_old = !(keep_old && !strcmp(keep_old, "1"));
    int dup_fd = dup(bfd);
    DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    if (!d) {
        if (dup_fd >= 0) close(dup_fd);
        return;
    }
    /* the names first: renaming while reading the folder could list an entry twice */
    char **names = NULL, **doomed = NULL;
    size_t n = 0, cap = 0, ndoomed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int old = prune_old && is_id(e->d_name) && strcmp(e->d_name, own_id);
        if (!old && !is_stale_leftover(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, cap * sizeof *names);
            if (!names) die("out of memory");
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    doomed = calloc(n ? n : 1, sizeof *doomed);
    if (!doomed) die("out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!is_id(names[i])) {  /* a stale leftover */
            doomed[ndoomed++] = strdup(names[i]);
            continue;
        }
        int dfd = openat(bfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int mfd = dfd < 0 ? -1 : open_marker(dfd, names[i], 0);
        char aside[64];
        snprintf(aside, sizeof aside, ".%s.pruning-%ld", names[i], (long)getpid());
        struct stat was, now;
        if (mfd >= 0 && flock(mfd, LOCK_EX | LOCK_NB) == 0 && fstat(dfd, &was) == 0 &&
            renameat(bfd, names[i], bfd, aside) == 0) {
            /* remove it only if what was renamed is the folder just checked */
            if (fstatat(bfd, aside, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == was.st_dev &&
                now.st_ino == was.st_ino)
                doomed[ndoomed++] = strdup(aside);
        }
        if (mfd >= 0) close(mfd);
        if (dfd >= 0) close(dfd);
    }
    if (ndoomed && background) {
        pid_t pid = fork();
        if (pid == 0) {
            /* a grandchild does it: the program exec'd here never sees it as its child */
            if (fork() > 0) _exit(0);
            setsid();
            setpriority(PRIO_PROCESS, 0, 10);
            int null = open("/dev/null", O_RDWR);
            if (null >= 0) {  /* nor holds the program's pipes open */
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                if (null > 2) close(null);
            }
            if (keep_fd >= 0) close(keep_fd);  /* the lock belongs to the program */
            for (size_t i = 0; i < ndoomed; i++) remove_at(bfd, doomed[i], 0);
            _exit(0);
        }
        if (pid > 0) {
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
            background = 2;  /* done there */
        }
    }
    for (size_t i = 0; background != 2 && i < ndoomed; i++) remove_at(bfd, doomed[i], 0);
    for (size_t i = 0; i < ndoomed; i++) free(doomed[i]);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(doomed);
}

/* Take the shared lock on dir's marker, kept across the exec for as long as the program runs.
 * Returns the descriptor; -1: dir has no (valid) marker; -2: dir went away meanwhile (pruned while
 * this start waited: unpack again). */
static int lock_folder(const char *dir, const char *id) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -2;
    int fd = open_marker(dfd, id, 1);
    close(dfd);
    if (fd < 0) return -1;
    /* a pruner holds the exclusive lock only while it renames the folder away */
    while (flock(fd, LOCK_SH) && errno == EINTR) {}
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/" MARKER, dir);
    struct stat held, now;
    if (fstat(fd, &held) || stat(path, &now) || held.st_ino != now.st_ino ||
        held.st_dev != now.st_dev) {
        close(fd);
        return -2;
    }
    return fd;
}

/* First start of this image: unpack it into base/<id> (dir). Returns its marker, locked (see
 * lock_folder), or -2 when another start of the same image finished first (its folder is used). */
static int unpack_into_cache(image_t *im, const char *base, int bfd, const char *dir) {
    char part[PATH_MAX + 64], advice[sizeof ADVICE_CACHE];
    snprintf(advice, sizeof advice, "%s", ADVICE_CACHE);
    /* the room first: other images' folders nobody uses and killed starts' leftovers */
    prune_cache(bfd, im->id, 0, -1);
    uint64_t need = check_space(im, base, advice);
    snprintf(part, sizeof part, "%s/.%s.partial-%ld", base, im->id, (long)getpid());
    size_t count;
    fprintf(stderr, "%s: first start, unpacking into %s ...\n", prog, dir);
    write_failed = 0;
    int lock = -1;
    if (extract(im, part, NULL, &count) || (lock = write_marker(part, im->id)) < 0) {
        /* extract into a sibling, then rename: the folder appears complete or not at all */
        remove_tree(part);
        if (no_space(write_failed)) die_no_space(base, need, advice, 1, write_failed);
        die("could not unpack the image into the cache folder %s", base);
    }
    if (rename(part, dir)) {
        int e = errno;
        close(lock);
        remove_tree(part);
        /* another start of the same image finished first: use its folder */
        struct stat st;
        if ((e == EEXIST || e == ENOTEMPTY) && stat(dir, &st) == 0) return -2;
        if (no_space(e)) die_no_space(base, need, advice, 1, e);
        die("cannot write the cache folder %s: %s", base, write_error(e));
    }
    return lock;
}

static int cached_start(image_t *im, char **argv, int argc) {
    char base[PATH_MAX], dir[PATH_MAX + 20], apprun[PATH_MAX + 32];
    cache_base(base, sizeof base);
    snprintf(dir, sizeof dir, "%s/%s", base, im->id);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", base);
    if ((make_parents(parent) || (mkdir(base, 0700) && errno != EEXIST)) || access(base, W_OK)) {
        int e = errno;
        char advice[sizeof ADVICE_CACHE];
        snprintf(advice, sizeof advice, "%s", ADVICE_CACHE);
        if (no_space(e)) die_no_space(parent, 0, advice, 0, e);
        die("cannot write the cache folder %s: %s (set XDG_CACHE_HOME to a writable folder, "
            "or start with --appimage-extract-and-run)", base, write_error(e));
    }
    int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bfd < 0) die("cannot read the cache folder %s: %s", base, strerror(errno));
    int lock = -1, unpacked = 0;
    for (int attempt = 0; lock < 0; attempt++) {
        if (attempt == 3)
            die("the cache folder %s keeps changing while it starts (is something else removing "
                "it?); start with --appimage-extract-and-run", base);
        struct stat st;
        if (stat(dir, &st) != 0) {
            unpacked = 1;
            if ((lock = unpack_into_cache(im, base, bfd, dir)) >= 0) break;
        }
        lock = lock_folder(dir, im->id);
        if (lock == -1) {
            /* a folder without the marker (left by hand, or by a runtime before 1.1): unpack again */
            char aside[64];
            fprintf(stderr, "%s: %s is not a complete unpacked image; unpacking it again\n", prog,
                    dir);
            snprintf(aside, sizeof aside, ".%s.pruning-%ld", im->id, (long)getpid());
            if (renameat(bfd, im->id, bfd, aside))
                die("cannot move the incomplete folder %s aside: %s", dir, strerror(errno));
            remove_at(bfd, aside, 0);
        }
    }
    /* a later start: what other images left is removed behind the program's back */
    if (!unpacked) prune_cache(bfd, im->id, 1, lock);
    close(bfd);
    apprun_path(apprun, sizeof apprun, dir);
    set_env(im, dir, argv[0]);
    argv[0] = apprun;
    (void)argc;
    execv(apprun, argv);
    die("cannot run %s: %s", apprun, strerror(errno));
}

static void usage(void) {
    printf("AdCopy Desktop AppImage (runtime %s)\n\n"
           "Options (as the first argument; everything else goes to the program):\n"
           "  --appimage-extract [PATTERN]  extract the image (or the paths matching PATTERN)\n"
           "                                into ./squashfs-root\n"
           "  --appimage-extract-and-run    extract into $TMPDIR, run, remove it afterwards\n"
           "                                (NO_CLEANUP=1 keeps it; APPIMAGE_EXTRACT_AND_RUN=1 does\n"
           "                                the same for a plain start)\n"
           "  --appimage-offset             print where the squashfs image starts\n"
           "  --appimage-version            print the runtime's version\n"
           "  --appimage-help               this text\n\n"
           "A plain start unpacks the image once into ${XDG_CACHE_HOME:-~/.cache}/" CACHE_NAME
           "/<id>\nand reuses it on later starts; it needs no FUSE. It removes the folders there of\n"
           "other AppImages that no running program uses (ADCOPY_APPIMAGE_KEEP_OLD=1 keeps them).\n",
           RUNTIME_VERSION);
}

int main(int argc, char **argv) {
    const char *opt = argc > 1 ? argv[1] : "";
    if (!strcmp(opt, "--appimage-help")) {
        usage();
        return 0;
    }
    if (!strcmp(opt, "--appimage-version")) {
        printf("AdCopy AppImage runtime %s (type 2 layout; squashfuse library, extracts instead of "
               "mounting)\n", RUNTIME_VERSION);
        return 0;
    }
    image_t im;
    image_open(&im);
    if (!strcmp(opt, "--appimage-offset")) {
        printf("%lld\n", (long long)im.offset);
        return 0;
    }
    if (!strcmp(opt, "--appimage-extract")) {
        size_t count;
        const char *pattern = argc > 2 ? argv[2] : NULL;
        char here[PATH_MAX];
        if (!getcwd(here, sizeof here)) snprintf(here, sizeof here, ".");
        uint64_t need = pattern ? 0 : check_space(&im, here, ADVICE_HERE);
        write_failed = 0;
        if (extract(&im, "squashfs-root", pattern, &count)) {
            /* what it wrote stays: the user asked for these files, and may free room and rerun */
            if (no_space(write_failed)) die_no_space(here, need, ADVICE_HERE, 0, write_failed);
            die("extraction into squashfs-root failed");
        }
        fprintf(stderr, "%s: extracted %zu entries into squashfs-root\n", prog, count);
        return 0;
    }
    if (!strcmp(opt, "--appimage-extract-and-run")) {
        argv[1] = argv[0];  /* drop the option, keep argv[0] for ARGV0 */
        return extract_and_run(&im, argv + 1, argc - 1);
    }
    if (!strncmp(opt, "--appimage-", 11))
        die("unknown option %s (this runtime extracts instead of mounting; see --appimage-help)",
            opt);
    const char *env = getenv("APPIMAGE_EXTRACT_AND_RUN");
    if (env && !strcmp(env, "1")) return extract_and_run(&im, argv, argc);
    return cached_start(&im, argv, argc);
}
