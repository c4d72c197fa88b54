// server.cc: the device process. It owns the "device memory" (host memory
// with a guard page after each block, so that a kernel reading or writing
// past the end of a buffer faults) and runs kernel launches: grids block by
// block over a pool of OS threads, each block's threads as coroutines.
// Requests come on stdin and replies go to stdout; see hostsim.go for the
// framing.
#include "runtime.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <csetjmp>
#include <map>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

namespace sim {
thread_local ThreadState* current;
thread_local dim3 block_idx, block_dim, grid_dim;
thread_local unsigned char* dynamic_shared;

static std::map<std::string, Entry>& registry()
{
    static std::map<std::string, Entry> r;
    return r;
}
Registration::Registration(const char* name, Entry e) { registry()[name] = e; }

// One block's threads and barriers. A coroutine starts through ucontext
// and after that switches with _setjmp/_longjmp, which, unlike swapcontext,
// make no system call.
struct Coroutine : ThreadState {
    ucontext_t start;
    jmp_buf ctx;
    bool started = false, done = false;
    unsigned block_gen = 0, warp_gen = 0; // barriers this thread has arrived at
};

struct Block {
    std::vector<Coroutine> threads;
    std::vector<char*> stacks;
    ucontext_t launcher;
    jmp_buf scheduler;
    unsigned live = 0, arrived = 0, released = 0;
    const char* barrier_file = nullptr; // the barrier the arrived threads wait at
    int barrier_line = 0;
    std::vector<unsigned> warp_live, warp_arrived, warp_released;
    std::vector<float> slots; // one shuffle value per thread
    struct MmaOperands {
        unsigned a[4], b[2];
    };
    std::vector<MmaOperands> mma; // one tensor-core product's fragments per thread
    Entry entry;
    void** args;
};
static thread_local Block* block;

static const size_t stack_bytes = 256 << 10;

// The block each static shared array was last poisoned for, per OS thread
// (each has its own copies of the arrays).
static thread_local std::map<void*, unsigned long long>* fresh_for;
static thread_local unsigned long long block_serial;

void fresh_shared(void* p, unsigned long bytes)
{
    if (!fresh_for)
        fresh_for = new std::map<void*, unsigned long long>();
    unsigned long long& last = (*fresh_for)[p];
    if (last != block_serial) {
        memset(p, 0xff, bytes);
        last = block_serial;
    }
}

static void yield()
{
    Coroutine* c = static_cast<Coroutine*>(current);
    if (!_setjmp(c->ctx))
        _longjmp(block->scheduler, 1);
}

// At a barrier every thread yields, the one that releases it too, so that
// each phase between barriers runs its threads in the scheduler's order.
[[noreturn]] static void barrier_fault(const char* file, int line);

void sync_block(const char* file, int line)
{
    Coroutine* c = static_cast<Coroutine*>(current);
    unsigned gen = ++c->block_gen;
    if (block->arrived == 0) {
        block->barrier_file = file;
        block->barrier_line = line;
    } else if (line != block->barrier_line || strcmp(file, block->barrier_file) != 0) {
        barrier_fault(file, line);
    }
    if (++block->arrived == block->live) {
        block->arrived = 0;
        block->released = gen;
    }
    do
        yield();
    while (block->released < gen);
}

void sync_warp()
{
    Coroutine* c = static_cast<Coroutine*>(current);
    unsigned w = c->linear / 32, gen = ++c->warp_gen;
    if (++block->warp_arrived[w] == block->warp_live[w]) {
        block->warp_arrived[w] = 0;
        block->warp_released[w] = gen;
    }
    do
        yield();
    while (block->warp_released[w] < gen);
}

[[noreturn]] static void lane_fault(unsigned lane, unsigned mask);

// A shuffle's member mask names the lanes that take part; on a GPU one that
// has returned (or, in a short last warp, does not exist) leaves the result
// undefined, so the simulator stops there rather than read a stale slot.
float exchange(float v, unsigned src_lane, unsigned mask)
{
    unsigned base = current->linear / 32 * 32;
    block->slots[current->linear] = v;
    sync_warp();
    for (unsigned l = 0; l < 32; l++)
        if ((mask >> l & 1) && (base + l >= block->threads.size() || block->threads[base + l].done))
            lane_fault(l, mask);
    unsigned src = base + src_lane;
    float r = src < block->slots.size() ? block->slots[src] : v;
    sync_warp();
    return r;
}

// A TF32 operand is read as its high 19 bits (sign, exponent, 10 of the
// mantissa); the kernels round before, so this only drops zeros.
static double tf32_value(unsigned bits)
{
    bits &= 0xffffe000u;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// Lane l holds A[l/4][l%4] (a[0]), A[l/4+8][l%4] (a[1]), A[l/4][l%4+4]
// (a[2]), A[l/4+8][l%4+4] (a[3]), B[l%4][l/4] (b[0]), B[l%4+4][l/4] (b[1]),
// and D[l/4][2(l%4)], D[l/4][2(l%4)+1], D[l/4+8][2(l%4)], D[l/4+8][2(l%4)+1].
// Products of two TF32 values are exact in float32 and so in double; the
// eight are summed in double and added to d with one rounding (the tensor
// core's own order of additions is not specified).
void mma_tf32_16x8x8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2])
{
    unsigned base = current->linear / 32 * 32, lane = current->linear % 32;
    Block::MmaOperands& mine = block->mma[current->linear];
    memcpy(mine.a, a, sizeof mine.a);
    memcpy(mine.b, b, sizeof mine.b);
    sync_warp();
    for (unsigned l = 0; l < 32; l++)
        if (base + l >= block->threads.size() || block->threads[base + l].done)
            lane_fault(l, 0xffffffffu);
    const Block::MmaOperands* w = &block->mma[base];
    for (int r = 0; r < 4; r++) {
        const unsigned row = lane / 4 + 8 * (r >> 1), col = 2 * (lane % 4) + (r & 1);
        double s = 0;
        for (unsigned k = 0; k < 8; k++) {
            const double av = tf32_value(w[(row % 8) * 4 + k % 4].a[(row >= 8 ? 1 : 0) + (k >= 4 ? 2 : 0)]);
            const double bv = tf32_value(w[col * 4 + k % 4].b[k >= 4 ? 1 : 0]);
            s += av * bv;
        }
        d[r] = float(double(d[r]) + s);
    }
    sync_warp();
}

// A thread that returns leaves its barriers: the ones waiting on it may go.
static void finish(Coroutine* c)
{
    c->done = true;
    block->live--;
    if (block->arrived > 0 && block->arrived == block->live) {
        block->arrived = 0;
        block->released++;
    }
    unsigned w = c->linear / 32;
    block->warp_live[w]--;
    if (block->warp_arrived[w] > 0 && block->warp_arrived[w] == block->warp_live[w]) {
        block->warp_arrived[w] = 0;
        block->warp_released[w]++;
    }
}

static void trampoline()
{
    Coroutine* c = static_cast<Coroutine*>(current);
    block->entry(block->args);
    finish(c);
    _longjmp(block->scheduler, 1);
}

// What the fault handler names.
static thread_local const char* running_kernel;
static std::atomic<const char*> faulting_kernel{nullptr};

// Thread stacks outlive launches: mapping them is the slow part.
static std::mutex stacks_mu;
static std::vector<char*> spare_stacks;

static char* new_stack()
{
    {
        std::lock_guard<std::mutex> l(stacks_mu);
        if (!spare_stacks.empty()) {
            char* s = spare_stacks.back();
            spare_stacks.pop_back();
            return s;
        }
    }
    // A page with no access below each stack: an overflow faults instead of
    // writing into the next thread's stack.
    const size_t guard = size_t(sysconf(_SC_PAGESIZE));
    void* s = mmap(nullptr, stack_bytes + guard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (s == MAP_FAILED) {
        fprintf(stderr, "hostsim: no memory for thread stacks\n");
        abort();
    }
    mprotect(s, guard, PROT_NONE);
    return static_cast<char*>(s) + guard;
}

static void run_block(Block& b, dim3 idx)
{
    block = &b;
    block_serial++;
    block_idx = idx;
    unsigned n = block_dim.x * block_dim.y * block_dim.z;
    b.threads.assign(n, Coroutine());
    b.live = n;
    b.arrived = b.released = 0;
    unsigned warps = (n + 31) / 32;
    b.warp_live.assign(warps, 0);
    b.warp_arrived.assign(warps, 0);
    b.warp_released.assign(warps, 0);
    b.slots.assign(n, 0.0f);
    b.mma.assign(n, Block::MmaOperands{});
    while (b.stacks.size() < n)
        b.stacks.push_back(new_stack());
    for (unsigned i = 0; i < n; i++) {
        Coroutine& c = b.threads[i];
        c.linear = i;
        c.tid.x = i % block_dim.x;
        c.tid.y = i / block_dim.x % block_dim.y;
        c.tid.z = i / (block_dim.x * block_dim.y);
        b.warp_live[i / 32]++;
        getcontext(&c.start);
        c.start.uc_stack.ss_sp = b.stacks[i];
        c.start.uc_stack.ss_size = stack_bytes;
        c.start.uc_link = nullptr;
        makecontext(&c.start, trampoline, 0);
    }
    // Round robin: a thread runs until it waits at a barrier or returns, so
    // a phase between barriers runs its threads one after another: in index
    // order, or in reverse order in blocks of odd linear index. A missing
    // barrier (a thread reading what another writes in the same phase, or
    // overwriting what another has yet to read) then gives a wrong result
    // in one order or the other, whichever way the data flows.
    const bool reversed = (idx.x + grid_dim.x * (idx.y + grid_dim.y * idx.z)) & 1;
    while (b.live > 0) {
        for (unsigned k = 0; k < n; k++) {
            const unsigned i = reversed ? n - 1 - k : k;
            Coroutine& c = b.threads[i];
            if (c.done)
                continue;
            current = &c;
            if (_setjmp(b.scheduler))
                continue; // the thread yielded or returned
            if (!c.started) {
                c.started = true;
                swapcontext(&b.launcher, &c.start);
            } else {
                _longjmp(c.ctx, 1);
            }
        }
    }
}

static std::string launch(const std::string& name, dim3 grid, dim3 blk, unsigned shared, void** args)
{
    auto it = registry().find(name);
    if (it == registry().end())
        return "no kernel named " + name;
    Entry entry = it->second;
    unsigned long long blocks = (unsigned long long)grid.x * grid.y * grid.z;
    unsigned workers = std::thread::hardware_concurrency();
    if (const char* s = getenv("HOSTSIM_THREADS"))
        workers = unsigned(atoi(s));
    if (workers < 1)
        workers = 1;
    if (blocks < workers)
        workers = unsigned(blocks);
    std::atomic<unsigned long long> next{0};
    auto work = [&]() {
        Block b;
        b.entry = entry;
        b.args = args;
        std::vector<unsigned char> dyn(shared + 16);
        dynamic_shared = dyn.data() + (16 - (uintptr_t(dyn.data()) & 15)) % 16;
        block_dim = blk;
        grid_dim = grid;
        running_kernel = name.c_str();
        for (;;) {
            unsigned long long i = next.fetch_add(1);
            if (i >= blocks)
                break;
            dim3 idx;
            idx.x = unsigned(i % grid.x);
            idx.y = unsigned(i / grid.x % grid.y);
            idx.z = unsigned(i / ((unsigned long long)grid.x * grid.y));
            // Dynamic shared memory starts each block as garbage, as on a GPU.
            memset(dynamic_shared, 0xff, shared);
            run_block(b, idx);
        }
        std::lock_guard<std::mutex> l(stacks_mu);
        spare_stacks.insert(spare_stacks.end(), b.stacks.begin(), b.stacks.end());
        running_kernel = nullptr;
    };
    std::vector<std::thread> pool;
    for (unsigned w = 1; w < workers; w++)
        pool.emplace_back(work);
    work();
    for (auto& t : pool)
        t.join();
    return "";
}

// Device memory: each allocation ends 16 bytes past its size, rounded, at a
// page with no access.
struct Allocation {
    void* map;
    size_t map_bytes;
};
static std::map<uint64_t, Allocation> allocations;
static long page;

static uint64_t alloc(uint64_t bytes)
{
    size_t rounded = (bytes + 15) / 16 * 16;
    size_t data_pages = (rounded + page - 1) / page;
    size_t map_bytes = (data_pages + 1) * page;
    void* m = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return 0;
    char* guard = static_cast<char*>(m) + data_pages * page;
    mprotect(guard, page, PROT_NONE);
    uint64_t p = uint64_t(guard - rounded);
    allocations[p] = Allocation{m, map_bytes};
    return p;
}

static bool release(uint64_t p)
{
    auto it = allocations.find(p);
    if (it == allocations.end())
        return false;
    munmap(it->second.map, it->second.map_bytes);
    allocations.erase(it);
    return true;
}

void misaligned(const void* p, unsigned align)
{
    const char* k = running_kernel;
    char msg[256];
    int n = snprintf(msg, sizeof msg, "hostsim: kernel %s: misaligned %u-byte vector load at %p\n", k ? k : "(none)",
                     align, p);
    if (n > 0)
        (void)!write(2, msg, size_t(n));
    _exit(3);
}

static void lane_fault(unsigned lane, unsigned mask)
{
    const char* k = running_kernel;
    char msg[256];
    int n = snprintf(msg, sizeof msg, "hostsim: kernel %s: warp shuffle with mask %#x while lane %u has returned or does not exist\n",
                     k ? k : "(none)", mask, lane);
    if (n > 0)
        (void)!write(2, msg, size_t(n));
    _exit(3);
}

static void barrier_fault(const char* file, int line)
{
    const char* k = running_kernel;
    char msg[512];
    int n = snprintf(msg, sizeof msg,
                     "hostsim: kernel %s: threads of one block wait at different barriers (%s:%d and %s:%d)\n",
                     k ? k : "(none)", block->barrier_file, block->barrier_line, file, line);
    if (n > 0)
        (void)!write(2, msg, size_t(n));
    _exit(3);
}

static void on_fault(int sig)
{
    const char* k = running_kernel;
    char msg[256];
    int n = snprintf(msg, sizeof msg, "hostsim: kernel %s: %s (an access outside its buffers)\n", k ? k : "(none)",
                     sig == SIGSEGV ? "segmentation fault" : "bus error");
    if (n > 0)
        (void)!write(2, msg, size_t(n));
    _exit(3);
}

// Framing: each request is a 1-byte opcode and little-endian fields; each
// reply starts with a u32 status (0 = ok) followed by the op's payload, or by
// a u32 length and an error message.
static bool read_full(void* p, size_t n)
{
    char* c = static_cast<char*>(p);
    while (n > 0) {
        ssize_t r = read(0, c, n);
        if (r <= 0)
            return false;
        c += r;
        n -= size_t(r);
    }
    return true;
}

static void write_full(const void* p, size_t n)
{
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
        ssize_t r = write(1, c, n);
        if (r <= 0)
            _exit(4);
        c += r;
        n -= size_t(r);
    }
}

template <class T> static T get()
{
    T v;
    if (!read_full(&v, sizeof v))
        _exit(0);
    return v;
}

static void reply_ok(const void* payload = nullptr, size_t n = 0)
{
    uint32_t s = 0;
    write_full(&s, 4);
    if (n)
        write_full(payload, n);
}

static void reply_err(const std::string& msg)
{
    uint32_t s = 1, n = uint32_t(msg.size());
    write_full(&s, 4);
    write_full(&n, 4);
    write_full(msg.data(), msg.size());
}

static bool owned(uint64_t p, uint64_t bytes)
{
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin())
        return false;
    --it;
    uint64_t end = uint64_t(static_cast<char*>(it->second.map)) + it->second.map_bytes - page;
    return p >= it->first && p + bytes <= end;
}
} // namespace sim

int main()
{
    using namespace sim;
    page = sysconf(_SC_PAGESIZE);
    stack_t alt;
    alt.ss_sp = malloc(1 << 16);
    alt.ss_size = 1 << 16;
    alt.ss_flags = 0;
    sigaltstack(&alt, nullptr);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
    for (;;) {
        uint8_t op = get<uint8_t>();
        switch (op) {
        case 'A': { // alloc u64 bytes -> u64 ptr
            uint64_t bytes = get<uint64_t>();
            uint64_t p = alloc(bytes);
            if (!p) {
                reply_err("out of memory");
                break;
            }
            reply_ok(&p, 8);
            break;
        }
        case 'F': { // free u64 ptr
            uint64_t p = get<uint64_t>();
            if (!release(p))
                reply_err("free of an address that is not an allocation");
            else
                reply_ok();
            break;
        }
        case 'W': { // write u64 ptr, u64 bytes, data
            uint64_t p = get<uint64_t>(), n = get<uint64_t>();
            std::vector<char> buf(n);
            if (!read_full(buf.data(), n))
                return 0;
            if (!owned(p, n)) {
                reply_err("copy to memory outside the allocations");
                break;
            }
            memcpy(reinterpret_cast<void*>(p), buf.data(), n);
            reply_ok();
            break;
        }
        case 'R': { // read u64 ptr, u64 bytes -> data
            uint64_t p = get<uint64_t>(), n = get<uint64_t>();
            if (!owned(p, n)) {
                reply_err("copy from memory outside the allocations");
                break;
            }
            reply_ok(reinterpret_cast<void*>(p), n);
            break;
        }
        case 'C': { // device copy u64 dst, u64 src, u64 bytes
            uint64_t d = get<uint64_t>(), s = get<uint64_t>(), n = get<uint64_t>();
            if (!owned(d, n) || !owned(s, n)) {
                reply_err("device copy outside the allocations");
                break;
            }
            memmove(reinterpret_cast<void*>(d), reinterpret_cast<void*>(s), n);
            reply_ok();
            break;
        }
        case 'M': { // memset u64 dst, u32 value, u64 count of u32
            uint64_t d = get<uint64_t>();
            uint32_t v = get<uint32_t>();
            uint64_t n = get<uint64_t>();
            if (!owned(d, n * 4)) {
                reply_err("memset outside the allocations");
                break;
            }
            uint32_t* u = reinterpret_cast<uint32_t*>(d);
            for (uint64_t i = 0; i < n; i++)
                u[i] = v;
            reply_ok();
            break;
        }
        case 'L': { // launch: u32 name length, name, 3 u32 grid, 3 u32 block,
                    // u32 shared, u32 argument count, per argument u32 size
                    // and its bytes
            uint32_t nl = get<uint32_t>();
            std::string name(nl, '\0');
            if (!read_full(&name[0], nl))
                return 0;
            dim3 g, b;
            g.x = get<uint32_t>(), g.y = get<uint32_t>(), g.z = get<uint32_t>();
            b.x = get<uint32_t>(), b.y = get<uint32_t>(), b.z = get<uint32_t>();
            uint32_t shared = get<uint32_t>(), na = get<uint32_t>();
            std::vector<std::vector<uint64_t>> cells(na);
            std::vector<void*> args(na);
            for (uint32_t i = 0; i < na; i++) {
                uint32_t sz = get<uint32_t>();
                cells[i].assign((sz + 7) / 8 + 1, 0);
                if (!read_full(cells[i].data(), sz))
                    return 0;
                args[i] = cells[i].data();
            }
            std::string err = launch(name, g, b, shared, args.data());
            if (!err.empty())
                reply_err(err);
            else
                reply_ok();
            break;
        }
        default:
            reply_err("unknown request");
        }
    }
}
