// Go 1.7-1.22's database/sql waiter set, `connRequests map[uint64]chan connRequest`, from which
// DB.putConnDBLocked hands a returned connection to the first key of a `range` over the map
// (`for reqKey, req = range db.connRequests { break }`). Go randomises where a range starts,
// but not uniformly over the keys: this class reproduces the runtime's map (golang/go
// src/runtime/map.go, Go 1.19: mapassign, mapdelete, mapiterinit / mapiternext, hashGrow,
// overLoadFactor, tooManyOverflowBuckets, evacuate) closely enough to give the same pick:
//   - 2^B buckets of 8 slots, each with a chain of overflow buckets; a key goes to bucket
//     hash & (2^B - 1), into the first empty slot of that bucket's chain (a new overflow
//     bucket when all are full, counted in noverflow);
//   - before an insert, if count + 1 > 8 and > 6.5 x 2^B the map doubles (B + 1), else if
//     noverflow >= 2^min(B, 15) it is rebuilt at the same size; evacuation copies each old
//     bucket's chain in slot order into its new bucket (x or y), from slot 0;
//   - a delete empties the slot; when the count reaches 0 the hash seed is drawn again
//     (issue 25237); B never shrinks;
//   - a range draws r (32 random bits, fastrand), starts at bucket r & (2^B - 1) and within
//     every bucket at slot (r >> B) & 7, walking slots cyclically, each bucket's chain in
//     order, then the next bucket (wrapping).
// A key that follows a run of empty slots or buckets is picked more often; a key in a crowded
// bucket less. Deviations: the hash is a keyed 64-bit mix standing for memhash64 with the
// map's seed (only its independence matters); evacuation happens at once, where Go spreads it
// over the next writes (two old buckets each), so a range during a grow sees the new layout.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "sim/random.hpp"

namespace dbpoolsim::models {

class go_map {
public:
    /// makemap_small: hash0 = fastrand().
    explicit go_map(sim::random_stream& rng) : seed_(rng.below(1ULL << 32)) {}

    std::uint32_t size() const { return count_; }
    std::size_t buckets() const { return chains_.size(); }  // 2^B

    /// mapassign of a new key (keys are never reassigned: database/sql's are a counter).
    void insert(std::uint64_t key, std::uint32_t value) {
        if (over_load_factor(count_ + 1, b_) || too_many_overflow()) grow(over_load_factor(count_ + 1, b_));
        place(key, value);
        ++count_;
    }

    /// mapdelete. The key must be present.
    void erase(std::uint64_t key, sim::random_stream& rng) {
        for (bucket& bk : chains_[index(key)])
            for (int i = 0; i < 8; ++i)
                if (bk.used[i] && bk.key[i] == key) {
                    bk.used[i] = false;
                    if (--count_ == 0) seed_ = rng.below(1ULL << 32);
                    return;
                }
    }

    /// The value of the first key a `range` yields (mapiterinit + one mapiternext);
    /// the map must not be empty.
    std::uint32_t first(sim::random_stream& rng) const {
        const std::uint64_t r = rng.below(1ULL << 32);
        const std::size_t nb = chains_.size();
        const std::size_t start = r & (nb - 1);
        const unsigned offset = static_cast<unsigned>(r >> b_) & 7;
        for (std::size_t j = 0; j < nb; ++j)
            for (const bucket& bk : chains_[(start + j) & (nb - 1)])
                for (unsigned i = 0; i < 8; ++i) {
                    const unsigned s = (i + offset) & 7;
                    if (bk.used[s]) return bk.value[s];
                }
        return ~0U;
    }

private:
    struct bucket {
        std::array<std::uint64_t, 8> key{};
        std::array<std::uint32_t, 8> value{};
        std::array<bool, 8> used{};
    };

    static bool over_load_factor(std::uint32_t count, unsigned b) {
        // count > bucketCnt && count > loadFactorNum * (bucketShift(B) / loadFactorDen)
        return count > 8 && count > 13ULL * ((1ULL << b) / 2);
    }
    bool too_many_overflow() const { return noverflow_ >= (1U << (b_ > 15 ? 15 : b_)); }

    std::size_t index(std::uint64_t key) const {
        return sim::mix64(key ^ sim::mix64(seed_)) & (chains_.size() - 1);
    }

    void place(std::uint64_t key, std::uint32_t value) {
        std::vector<bucket>& chain = chains_[index(key)];
        for (bucket& bk : chain)
            for (int i = 0; i < 8; ++i)
                if (!bk.used[i]) {
                    bk.key[i] = key, bk.value[i] = value, bk.used[i] = true;
                    return;
                }
        chain.emplace_back();  // newoverflow
        ++noverflow_;
        chain.back().key[0] = key, chain.back().value[0] = value, chain.back().used[0] = true;
    }

    /// hashGrow + evacuate of every old bucket, in bucket order.
    void grow(bool bigger) {
        std::vector<std::vector<bucket>> old(bigger ? chains_.size() * 2 : chains_.size(),
                                             std::vector<bucket>(1));
        old.swap(chains_);
        if (bigger) ++b_;
        noverflow_ = 0;
        for (const auto& chain : old)
            for (const bucket& bk : chain)
                for (int i = 0; i < 8; ++i)
                    if (bk.used[i]) place(bk.key[i], bk.value[i]);
    }

    std::vector<std::vector<bucket>> chains_ = std::vector<std::vector<bucket>>(1, std::vector<bucket>(1));
    unsigned b_ = 0;
    std::uint32_t count_ = 0;
    std::uint32_t noverflow_ = 0;
    std::uint64_t seed_;
};

}  // namespace dbpoolsim::models
