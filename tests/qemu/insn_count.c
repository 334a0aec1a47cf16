/*
 * insn_count.c: a QEMU TCG plugin (API v1, QEMU 7.2 and later) that counts
 * the cache-maintenance instructions a guest executes, between marker
 * instructions the guest places around the code under test.
 *
 * Instructions are classified by their encoding, never by disassembly text
 * (QEMU 7.2 disassembles with the wrong byte order under QEMU_CPU=a64fx).
 *
 *   AArch64  DC CVAU, Xt   0xD50B7B20 | Rt
 *            IC IVAU, Xt   0xD50B7520 | Rt
 *            DSB ISH       0xD5033B9F
 *            ISB           0xD5033FDF
 *            HINT #126     0xD5032FDF   window start (a NOP to the CPU)
 *            HINT #127     0xD5032FFF   window end: print the counts
 *            MRS Xt, CTR_EL0  0xD53B0020 | Rt   counted per vCPU (= per guest
 *                          thread in user mode) over the whole run, windows or
 *                          not: "ctr_el0 vcpu=I reads=N" at exit, one line per
 *                          vCPU that read it
 *            SVC #0 (AArch64, 0xD4000001), ECALL (RISC-V, 0x00000073): system
 *                          calls made, whole run: "syscalls total=N" at exit
 *                          (QEMU's -strace does not log every call: riscv64's
 *                          riscv_flush_icache is missing from it)
 *   x86_64   IRETQ         48 CF
 *            SERIALIZE     0F 01 E8
 *            CPUID         0F A2
 *            NOP DWORD PTR [RAX+0x7E] / [RAX+0x7F]   0F 1F 40 7E / 0F 1F 40 7F:
 *                          window start / end (multi-byte NOPs)
 *   RISC-V   FENCE.I       0x0000100F
 *            (window markers: the HINT encodings are not RISC-V code; RISC-V
 *            windows use `slti zero, zero, 126` / `127`, 0x07E02013 / 0x07F02013,
 *            HINTs that do nothing)
 *
 * Output, one line per window, to the file named by the plugin argument
 * `out=PATH` (default: stderr):
 *
 *   window N dc=.. ic=.. dsb=.. isb=.. fencei=.. iret=.. serialize=.. cpuid=.. insns=..
 *
 * `insns` is every instruction executed strictly between the two markers
 * (an inline counter on every instruction except the markers themselves), so
 * a window that should hold a single instruction can be proved to.
 *
 * Debian ships no qemu-plugin.h, so the few declarations used are below.
 * Build: gcc -shared -fPIC -O2 -o libinsn_count.so insn_count.c
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

enum kind { DC, IC, DSB, ISB, FENCEI, IRET, SERIALIZE, CPUID, START, END, CTR, SYSCALL, KINDS };
static uint64_t syscalls; /* SVC #0 / ECALL executed, whole run */
#define MAX_VCPUS 1024
static uint64_t ctr_reads[MAX_VCPUS]; /* MRS CTR_EL0 per vCPU, whole run */
static const char *const names[] = { "dc", "ic", "dsb", "isb", "fencei", "iret", "serialize", "cpuid" };

static unsigned long counts[KINDS];
static uint64_t executed;      /* every non-marker instruction, ever (inline) */
static uint64_t executed_at_start;
static int counting;
static int window;
static FILE *out;

static int classify(uint32_t w, size_t size)
{
    /* x86_64 (little-endian bytes in `w`, the rest zero). */
    if (size == 2 && w == 0xCF48u) return IRET;
    if (size == 3 && w == 0xE8010Fu) return SERIALIZE;
    if (size == 2 && w == 0xA20Fu) return CPUID;
    if (size == 4 && w == 0x7E401F0Fu) return START;
    if (size == 4 && w == 0x7F401F0Fu) return END;
    if (size == 4) {
        if ((w & 0xFFFFFFE0u) == 0xD50B7B20u) return DC;
        if ((w & 0xFFFFFFE0u) == 0xD50B7520u) return IC;
        if (w == 0xD5033B9Fu) return DSB;
        if (w == 0xD5033FDFu) return ISB;
        if (w == 0xD5032FDFu || w == 0x07E02013u) return START;
        if (w == 0xD5032FFFu || w == 0x07F02013u) return END;
        if (w == 0x0000100Fu) return FENCEI;
        if ((w & 0xFFFFFFE0u) == 0xD53B0020u) return CTR;
        if (w == 0xD4000001u || w == 0x00000073u) return SYSCALL;
    }
    return -1;
}

static void on_exec(unsigned int vcpu, void *udata)
{
    int k = (int)(uintptr_t)udata;
    if (k == SYSCALL) {
        __atomic_fetch_add(&syscalls, 1, __ATOMIC_RELAXED);
    } else if (k == CTR) {
        /* vCPUs are guest threads running in parallel host threads. */
        __atomic_fetch_add(&ctr_reads[vcpu < MAX_VCPUS ? vcpu : MAX_VCPUS - 1], 1, __ATOMIC_RELAXED);
    } else if (k == START) {
        memset(counts, 0, sizeof counts);
        executed_at_start = executed;
        counting = 1;
    } else if (k == END) {
        if (!counting) return;
        counting = 0;
        fprintf(out, "window %d", window++);
        for (int i = 0; i < START; i++) fprintf(out, " %s=%lu", names[i], counts[i]);
        fprintf(out, " insns=%llu\n", (unsigned long long)(executed - executed_at_start));
        fflush(out);
    } else if (counting && k < START) {
        counts[k]++;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        size_t size = qemu_plugin_insn_size(insn);
        uint32_t w = 0;
        if (size <= 4) memcpy(&w, qemu_plugin_insn_data(insn), size); /* little-endian guests */
        int k = classify(w, size);
        if (k != START && k != END)
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                       &executed, 1);
        if (k >= 0)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_exec, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)k);
    }
}

static void on_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id; (void)udata;
    fprintf(out, "syscalls total=%llu\n", (unsigned long long)syscalls);
    for (unsigned i = 0; i < MAX_VCPUS; i++)
        if (ctr_reads[i])
            fprintf(out, "ctr_el0 vcpu=%u reads=%llu\n", i, (unsigned long long)ctr_reads[i]);
    if (out != stderr) fclose(out);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    out = stderr;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            out = fopen(argv[i] + 4, "w");
            if (!out) { perror(argv[i] + 4); return -1; }
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
