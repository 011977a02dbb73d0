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
 *                        exec AppRun; later starts of the same image reuse that folder
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
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* squashfuse's config.h sets _POSIX_C_SOURCE; the system headers above already chose GNU. */
#undef _POSIX_C_SOURCE
#include <squashfuse/squashfuse.h>

#define RUNTIME_VERSION "1.0"
#define CACHE_NAME "adcopy-appimage"
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
    if (out < 0) {
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, dest, write_error(errno));
        return -1;
    }
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
                fprintf(stderr, "%s: cannot write %s: %s\n", prog, dest, write_error(errno));
                close(out);
                return -1;
            }
            done += w;
        }
        pos += (uint64_t)n;
    }
    /* the mode last: read-only files stay writable until they are complete */
    if (fchmod(out, inode->base.mode & 07777) || close(out)) {
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, dest, write_error(errno));
        return -1;
    }
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
    if (r) fprintf(stderr, "%s: cannot create %s: %s\n", prog, dest, write_error(errno));
    free(target);
    return r;
}

/* Extract every entry (or those whose path matches pattern) below dest. Returns 0 or -1 (the
 * message is printed). Directories get their modes at the end, so a read-only directory can
 * still be filled. */
static int extract(image_t *im, const char *dest, const char *pattern, size_t *count) {
    if (mkdir(dest, 0755) && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, dest, write_error(errno));
        return -1;
    }
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
            fprintf(stderr, "%s: cannot create the folders of %s: %s\n", prog, target,
                    write_error(errno));
            rc = -1;
            break;
        }
        mode_t type = sqfs_mode(inode.base.inode_type) & S_IFMT;
        if (S_ISDIR(type)) {
            struct stat st;
            if (lstat(target, &st) == 0 && !S_ISDIR(st.st_mode)) unlink(target);
            if (mkdir(target, 0700) && errno != EEXIST) {
                fprintf(stderr, "%s: cannot create %s: %s\n", prog, target, write_error(errno));
                rc = -1;
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

static int rm_open_cb(const char *p, const struct stat *st, int type, struct FTW *f) {
    (void)f;
    if (type == FTW_D) chmod(p, (st->st_mode & 07777) | 0700);
    return 0;
}

static int rm_cb(const char *p, const struct stat *st, int type, struct FTW *f) {
    (void)st; (void)type; (void)f;
    remove(p);
    return 0;
}

static void remove_tree(const char *path) {
    nftw(path, rm_open_cb, 32, FTW_PHYS);
    nftw(path, rm_cb, 32, FTW_PHYS | FTW_DEPTH);
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
    if (extract(im, dir, NULL, &count)) {
        remove_tree(dir);
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

/* Partial extractions are named .<id>.partial-<pid>; remove those whose process is gone (a start
 * that was killed or ran out of disk). */
static void remove_stale_partials(const char *base) {
    DIR *d = opendir(base);
    if (!d) return;
    struct dirent *e;
    char path[PATH_MAX + 256];
    while ((e = readdir(d))) {
        const char *p = strstr(e->d_name, ".partial-");
        if (e->d_name[0] != '.' || !p) continue;
        long pid = strtol(p + 9, NULL, 10);
        if (pid > 0 && (pid == getpid() || (kill((pid_t)pid, 0) && errno == ESRCH))) {
            snprintf(path, sizeof path, "%s/%s", base, e->d_name);
            remove_tree(path);
        }
    }
    closedir(d);
}

static int cached_start(image_t *im, char **argv, int argc) {
    char base[PATH_MAX], dir[PATH_MAX + 20], part[PATH_MAX + 64], apprun[PATH_MAX + 32];
    cache_base(base, sizeof base);
    snprintf(dir, sizeof dir, "%s/%s", base, im->id);
    struct stat st;
    if (stat(dir, &st) != 0) {
        /* extract into a sibling, then rename: the folder appears complete or not at all */
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", base);
        if ((make_parents(parent) || (mkdir(base, 0700) && errno != EEXIST)) ||
            access(base, W_OK))
            die("cannot write the cache folder %s: %s (set XDG_CACHE_HOME to a writable folder, "
                "or start with --appimage-extract-and-run)", base, write_error(errno));
        remove_stale_partials(base);
        snprintf(part, sizeof part, "%s/.%s.partial-%ld", base, im->id, (long)getpid());
        size_t count;
        fprintf(stderr, "%s: first start, unpacking into %s ...\n", prog, dir);
        if (extract(im, part, NULL, &count)) {
            remove_tree(part);
            die("could not unpack the image into the cache folder %s", base);
        }
        if (rename(part, dir)) {
            int e = errno;
            remove_tree(part);
            /* another start of the same image finished first: use its folder */
            if (!(e == EEXIST || e == ENOTEMPTY) || stat(dir, &st) != 0)
                die("cannot write the cache folder %s: %s", base, write_error(e));
        }
    }
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
           "/<id>\nand reuses it on later starts; it needs no FUSE.\n", RUNTIME_VERSION);
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
        if (extract(&im, "squashfs-root", pattern, &count))
            die("extraction into squashfs-root failed");
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
