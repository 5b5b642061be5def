// Batch driver for Verilator, shipped with bespoke: the C++ counterpart of batch.v.tmpl.
// Verilator builds it with the harness (bespoke_harness, prefix Vbatch) into one program:
//     simulation VECTORS OBSERVED
// reads one packed input vector per line of VECTORS (hex), evaluates the combinational
// design on it and writes its answer to OBSERVED (hex, one per line).  Driving the model
// from C++ needs no timing support in Verilator, whose coroutine code makes every build
// slower (benchmarks/results/simulation_throughput.md).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "Vbatch.h"
#include "verilated.h"

// a hex line as 32-bit words, the least significant first
static std::vector<uint32_t> words_of(const std::string& hex) {
    std::vector<uint32_t> words;
    uint32_t word = 0;
    int nibbles = 0;
    for (auto it = hex.rbegin(); it != hex.rend(); ++it) {
        const char c = *it;
        uint32_t digit;
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        else continue;
        word |= digit << (4 * nibbles);
        if (++nibbles == 8) {
            words.push_back(word);
            word = 0;
            nibbles = 0;
        }
    }
    if (nibbles) words.push_back(word);
    return words;
}

// ports up to 64 bits are integers, wider ones VlWide arrays of 32-bit words
template <typename T> static void load(T& port, const std::vector<uint32_t>& words) {
    uint64_t value = 0;
    for (std::size_t i = 0; i < words.size() && i < 2; ++i) value |= uint64_t(words[i]) << (32 * i);
    port = static_cast<T>(value);
}

template <std::size_t N> static void load(VlWide<N>& port, const std::vector<uint32_t>& words) {
    for (std::size_t i = 0; i < N; ++i) port[i] = i < words.size() ? words[i] : 0;
}

template <typename T> static void store(std::FILE* out, const T& port) {
    std::fprintf(out, "%llx\n", static_cast<unsigned long long>(port));
}

template <std::size_t N> static void store(std::FILE* out, const VlWide<N>& port) {
    for (std::size_t i = N; i-- > 0;) std::fprintf(out, "%08x", static_cast<unsigned>(port[i]));
    std::fprintf(out, "\n");
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s VECTORS OBSERVED\n", argv[0]);
        return 2;
    }
    std::ifstream vectors(argv[1]);
    if (!vectors) {
        std::fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    std::FILE* out = std::fopen(argv[2], "w");
    if (!out) {
        std::fprintf(stderr, "cannot write %s\n", argv[2]);
        return 2;
    }
    VerilatedContext context;
    Vbatch top{&context};
    std::string line;
    while (std::getline(vectors, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        load(top.stimulus, words_of(line));
        top.eval();
        store(out, top.result);
    }
    top.final();
    std::fclose(out);
    return 0;
}
