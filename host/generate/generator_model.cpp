// Behavioural model of the synthetic dataset; see generator_model.hpp for the design notes and
// docs/generator.md for what is planted. Every table here is documented in the truth JSON.
#include "host/generate/generator_model.hpp"

#include <algorithm>
#include <stdexcept>
#include <cassert>
#include <cmath>

#include "host/core/splitmix64.hpp"

namespace jm::generate {
namespace {

constexpr const char* kTouchpointNames[kTouchpointCount] = {
    "ad_click", "email_open",  "home",         "search",  "category", "product_view", "reviews",
    "add_to_cart", "checkout", "purchase", "support_chat", "wishlist", "store_visit"};
constexpr const char* kChannelNames[kChannelCount] = {"web", "app", "email", "social", "paid_search", "store"};
constexpr const char* kAnomalyNames[kAnomalyKindCount] = {"", "navigation_loop", "abrupt_falloff", "bot_burst"};

using Row = std::array<double, kTouchpointCount>;
using Matrix = std::array<Row, kTouchpointCount>;

// Sparse row literal: {{touchpoint, weight}, ...}.
Row row(std::initializer_list<std::pair<Touchpoint, double>> weights) {
  Row r{};
  for (const auto& [touchpoint, weight] : weights) r[touchpoint] = weight;
  return r;
}

std::array<double, 24> hours(std::initializer_list<std::pair<std::pair<int, int>, double>> ranges,
                             double background) {
  std::array<double, 24> h{};
  h.fill(background);
  for (const auto& [range, weight] : ranges)
    for (int hour = range.first; hour <= range.second; ++hour) h[hour] = weight;
  return h;
}

SegmentSpec researcher() {
  SegmentSpec s{};
  s.name = "researcher";
  s.description = "long evening web sessions dominated by search, product_view and reviews";
  s.share = 0.30;
  s.body_min = 16;
  s.body_max = 27;
  s.checkout_intent = 0.16;
  s.conversion_motif_injection = 0.25;
  s.abandonment_motif_injection = 0.08;
  s.value_log_mean = std::log(110.0);
  s.value_log_sigma = 0.5;
  s.gap_median_seconds = 45;
  s.gap_log_sigma = 1.0;
  s.long_gap_probability = 0.04;
  s.primary_web_probability = 0.88;
  s.paid_search_ad_probability = 0.8;
  s.hour_weights = hours({{{19, 23}, 6.0}, {{9, 18}, 2.0}, {{0, 1}, 2.0}}, 0.3);
  // Researchers search; they never browse by category (that is the comparison shoppers' habit),
  // which keeps the two long-journey segments apart in feature space.
  s.entry_weights = row({{kSearch, 0.5}, {kHome, 0.25}, {kAdClick, 0.15}, {kEmailOpen, 0.10}});
  Matrix& m = s.transition_weights;
  m[kAdClick] = row({{kSearch, 0.3}, {kProductView, 0.5}, {kHome, 0.2}});
  m[kEmailOpen] = row({{kHome, 0.4}, {kSearch, 0.3}, {kProductView, 0.3}});
  m[kHome] = row({{kSearch, 0.75}, {kProductView, 0.25}});
  m[kSearch] = row({{kSearch, 0.25}, {kProductView, 0.5}, {kReviews, 0.2}, {kHome, 0.05}});
  m[kProductView] = row({{kReviews, 0.4}, {kSearch, 0.34}, {kProductView, 0.15}, {kWishlist, 0.07},
                         {kAddToCart, 0.02}, {kStoreVisit, 0.02}});
  m[kReviews] = row({{kSearch, 0.36}, {kProductView, 0.42}, {kReviews, 0.15}, {kWishlist, 0.05}, {kAddToCart, 0.02}});
  m[kAddToCart] = row({{kSearch, 0.4}, {kProductView, 0.4}, {kReviews, 0.2}});
  m[kWishlist] = row({{kSearch, 0.5}, {kProductView, 0.5}});
  m[kStoreVisit] = row({{kHome, 0.5}, {kSearch, 0.5}});
  return s;
}

SegmentSpec impulse() {
  SegmentSpec s{};
  s.name = "impulse";
  s.description = "short app journeys from a social or paid ad straight to the cart";
  s.share = 0.25;
  s.body_min = 2;
  s.body_max = 3;
  s.checkout_intent = 0.62;
  s.conversion_motif_injection = 0.0;  // too short to contain it
  s.abandonment_motif_injection = 0.08;
  s.value_log_mean = std::log(35.0);
  s.value_log_sigma = 0.6;
  s.gap_median_seconds = 12;
  s.gap_log_sigma = 0.7;
  s.long_gap_probability = 0.005;
  s.primary_web_probability = 0.15;
  s.paid_search_ad_probability = 0.25;
  s.hour_weights = hours({{{12, 13}, 5.0}, {{20, 23}, 5.0}, {{7, 11}, 2.0}, {{14, 19}, 3.0}, {{0, 2}, 2.0}}, 0.3);
  s.entry_weights = row({{kAdClick, 1.0}});
  Matrix& m = s.transition_weights;
  m[kAdClick] = row({{kProductView, 1.0}});
  m[kHome] = row({{kProductView, 1.0}});
  m[kProductView] = row({{kAddToCart, 0.6}, {kProductView, 0.4}});
  m[kAddToCart] = row({{kProductView, 1.0}});
  return s;
}

SegmentSpec comparison() {
  SegmentSpec s{};
  s.name = "comparison";
  s.description = "medium journeys looping product_view <-> reviews <-> category";
  s.share = 0.25;
  s.body_min = 7;
  s.body_max = 13;
  s.checkout_intent = 0.22;
  s.conversion_motif_injection = 0.0;  // a search inside a category-only journey would look anomalous
  s.abandonment_motif_injection = 0.12;
  s.value_log_mean = std::log(85.0);
  s.value_log_sigma = 0.5;
  s.gap_median_seconds = 30;
  s.gap_log_sigma = 0.9;
  s.long_gap_probability = 0.03;
  s.primary_web_probability = 0.55;
  s.paid_search_ad_probability = 0.5;
  s.hour_weights = hours({{{13, 18}, 5.0}, {{9, 12}, 3.0}, {{19, 22}, 3.0}}, 0.5);
  // Comparison shoppers browse by category and never use search (see researcher()).
  s.entry_weights = row({{kCategory, 0.6}, {kHome, 0.25}, {kAdClick, 0.15}});
  Matrix& m = s.transition_weights;
  m[kAdClick] = row({{kProductView, 0.6}, {kCategory, 0.4}});
  m[kEmailOpen] = row({{kCategory, 0.5}, {kProductView, 0.5}});
  m[kHome] = row({{kCategory, 0.8}, {kProductView, 0.2}});
  m[kCategory] = row({{kProductView, 0.8}, {kCategory, 0.1}, {kReviews, 0.1}});
  m[kProductView] = row({{kReviews, 0.45}, {kCategory, 0.3}, {kProductView, 0.15}, {kWishlist, 0.04},
                         {kAddToCart, 0.04}, {kStoreVisit, 0.02}});
  m[kReviews] = row({{kProductView, 0.6}, {kCategory, 0.3}, {kReviews, 0.05}, {kWishlist, 0.05}});
  m[kAddToCart] = row({{kProductView, 0.5}, {kCategory, 0.5}});
  m[kWishlist] = row({{kProductView, 0.5}, {kCategory, 0.5}});
  m[kStoreVisit] = row({{kProductView, 0.5}, {kCategory, 0.5}});
  return s;
}

SegmentSpec churner() {
  SegmentSpec s{};
  s.name = "churner";
  s.description = "opens a marketing email, glances at the site and leaves; never buys";
  s.share = 0.20;
  s.body_min = 2;
  s.body_max = 3;
  s.checkout_intent = 0.0;
  s.conversion_motif_injection = 0.0;
  s.abandonment_motif_injection = 0.0;
  s.value_log_mean = std::log(40.0);
  s.value_log_sigma = 0.5;
  s.gap_median_seconds = 20;
  s.gap_log_sigma = 0.8;
  s.long_gap_probability = 0.01;
  s.primary_web_probability = 0.5;
  s.paid_search_ad_probability = 0.5;
  s.hour_weights = hours({{{7, 10}, 6.0}, {{11, 20}, 1.5}}, 0.3);
  // Always email-led and never looking at products: nothing to confuse with a short impulse visit.
  s.entry_weights = row({{kEmailOpen, 1.0}});
  Matrix& m = s.transition_weights;
  m[kEmailOpen] = row({{kHome, 0.9}, {kSupportChat, 0.1}});
  m[kHome] = row({{kCategory, 0.45}, {kHome, 0.3}, {kSupportChat, 0.25}});
  m[kCategory] = row({{kHome, 0.6}, {kCategory, 0.4}});
  m[kSupportChat] = row({{kHome, 1.0}});
  return s;
}

template <size_t N>
std::array<double, N> cumulative(const std::array<double, N>& weights) {
  std::array<double, N> cdf{};
  double total = 0.0;
  for (double w : weights) total += w;
  double running = 0.0;
  for (size_t i = 0; i < N; ++i) {
    running += weights[i];
    cdf[i] = total > 0.0 ? running / total : 0.0;
  }
  if (total > 0.0) cdf[N - 1] = 1.0;
  return cdf;
}

Model build_model() {
  Model model{};
  model.segments = {researcher(), impulse(), comparison(), churner()};
  // A journey with the checkout tail (add_to_cart?, checkout, purchase) has at most 3 more events
  // than its body; the abandonment motif appends 2 to the shortest impulse body, then checkout and
  // purchase may follow.
  for (auto& s : model.segments) {
    s.length_min = s.body_min;
    s.length_max = s.body_max + 3;
  }
  model.segments[kChurner].length_max = model.segments[kChurner].body_max;  // churners never check out

  // Approximate per-segment conversion under the default options (1M journeys, spike on day 60 of
  // 90); used as documentation, the truth JSON also carries the observed rates.
  model.segments[kResearcher].expected_conversion_rate = 0.35;
  model.segments[kImpulse].expected_conversion_rate = 0.40;
  model.segments[kComparison].expected_conversion_rate = 0.17;
  model.segments[kChurner].expected_conversion_rate = 0.0;

  model.motifs[kConversionMotif] = MotifSpec{
      "search_reviews_cart", "conversion",
      "search, later reviews, later add_to_cart: the journey reaches checkout with probability 0.80 and "
      "buys there with probability 0.88 (0.25 on the spike day)",
      {kSearch, kReviews, kAddToCart},
      kMotifCheckoutIntent * kMotifCheckoutConversion,
      0.14};
  model.motifs[kAbandonmentMotif] = MotifSpec{
      "cart_support_exit", "abandonment",
      "add_to_cart then support_chat: the journey ends at the chat with probability 0.95, otherwise it "
      "goes to checkout and buys with the usual checkout rate",
      {kAddToCart, kSupportChat},
      kAfterSupportCheckoutIntent * kCheckoutConversion,
      0.26};

  double running = 0.0;
  for (int s = 0; s < kSegmentCount; ++s) {
    SegmentSpec& spec = model.segments[s];
    running += spec.share;
    model.segment_cdf[s] = running;
    model.hour_cdf[s] = cumulative(spec.hour_weights);
    model.entry_cdf[s] = cumulative(spec.entry_weights);
    for (int from = 0; from < kTouchpointCount; ++from) {
      // A state without outgoing weights restarts like a fresh entry, so every walk can continue.
      const Row& weights = spec.transition_weights[from];
      bool any = false;
      for (double w : weights) any = any || w > 0.0;
      model.transition_cdf[s][from] = cumulative(any ? weights : spec.entry_weights);
    }
  }
  model.segment_cdf[kSegmentCount - 1] = 1.0;
  return model;
}

// ------------------------------------------------------------------ journey simulation

struct JourneyContext {
  const Model& model;
  const SegmentSpec& spec;
  Segment segment;
  Rng& rng;
  const Calendar& calendar;
  uint32_t local_customer;
  std::vector<Event>& events;
  uint8_t variant = 0;  // of the journey being simulated (Event::variant)
  bool drifted = false;  // the journey starts on or after the planted drift day
};

// The conversion motif without its last item.
const std::vector<uint8_t> kResearchPrefix = {kSearch, kReviews};

double gap_multiplier(int touchpoint) {
  switch (touchpoint) {
    case kReviews: return 2.0;
    case kProductView: return 1.2;
    case kSearch: return 0.8;
    case kHome: return 0.6;
    case kAddToCart: return 0.7;
    case kSupportChat: return 3.0;
    default: return 1.0;
  }
}

// Seconds before an event of `touchpoint`, `elapsed` seconds into the journey: seconds to minutes,
// sometimes hours, never more than 12 h, and the journey never runs past kMaxJourneySeconds.
int64_t draw_gap(const SegmentSpec& spec, int touchpoint, Rng& rng, int64_t elapsed) {
  double gap = rng.lognormal(std::log(spec.gap_median_seconds * gap_multiplier(touchpoint)), spec.gap_log_sigma);
  if (rng.bernoulli(spec.long_gap_probability)) gap = static_cast<double>(rng.uniform_int(1800, 6 * 3600));
  int64_t seconds = static_cast<int64_t>(std::llround(std::min(gap, static_cast<double>(kMaxGapSeconds))));
  seconds = std::max<int64_t>(seconds, 1);
  // Leaves an hour of headroom for the (at most ~40) remaining short steps.
  if (elapsed + seconds > kMaxJourneySeconds - 3600) seconds = std::min<int64_t>(seconds, 60);
  return seconds;
}

uint8_t draw_channel(const SegmentSpec& spec, int touchpoint, Channel device, Rng& rng) {
  switch (touchpoint) {
    case kEmailOpen: return kEmail;
    case kStoreVisit: return kStore;
    case kAdClick: return rng.bernoulli(spec.paid_search_ad_probability) ? kPaidSearch : kSocial;
    default:
      // Customers mostly stay on one device within a journey.
      if (rng.bernoulli(0.9)) return device;
      return device == kWeb ? kApp : kWeb;
  }
}

void emit(JourneyContext& ctx, int64_t time, uint8_t touchpoint, uint8_t channel, uint32_t value_cents) {
  ctx.events.push_back(Event{time, ctx.local_customer, touchpoint, channel, value_cents, ctx.variant});
}

uint8_t motif_mask_of(const Model& model, const std::vector<uint8_t>& sequence) {
  uint8_t mask = 0;
  for (int m = 0; m < kMotifCount; ++m)
    if (contains_subsequence(sequence.data(), sequence.size(), model.motifs[m].items)) mask |= uint8_t(1u << m);
  return mask;
}

// Fills `sequence` with the touchpoints of a normal journey up to (and including) any checkout.
// Returns the conversion-relevant motif flags of that sequence.
void draw_browsing_sequence(JourneyContext& ctx, std::vector<uint8_t>& sequence) {
  const int segment = ctx.segment;
  const SegmentSpec& spec = ctx.spec;
  const Model& model = ctx.model;
  Rng& rng = ctx.rng;

  const int body = static_cast<int>(rng.uniform_int(spec.body_min, spec.body_max));
  sequence.clear();
  uint8_t current = static_cast<uint8_t>(rng.sample_cdf(model.entry_cdf[segment].data(), kTouchpointCount));
  sequence.push_back(current);
  for (int i = 1; i < body; ++i) {
    current = static_cast<uint8_t>(rng.sample_cdf(model.transition_cdf[segment][current].data(), kTouchpointCount));
    sequence.push_back(current);
  }

  // Motif injection: the conversion motif replaces the last three browsing steps, the abandonment
  // motif ends the browsing with add_to_cart -> support_chat.
  const double u = rng.uniform();
  if (u < spec.conversion_motif_injection && body >= 4) {
    sequence[body - 3] = kSearch;
    sequence[body - 2] = kReviews;
    sequence[body - 1] = kAddToCart;
  } else if (u >= spec.conversion_motif_injection &&
             u < spec.conversion_motif_injection + spec.abandonment_motif_injection &&
             !contains_subsequence(sequence.data(), sequence.size(), kResearchPrefix)) {
    // Skipped after search ... reviews: the appended add_to_cart would complete the conversion
    // motif too, and the two planted effects are kept on disjoint journeys.
    if (body >= 3) {
      sequence[body - 2] = kAddToCart;
      sequence[body - 1] = kSupportChat;
    } else {
      sequence.push_back(kAddToCart);
      sequence.push_back(kSupportChat);
    }
  }

  const uint8_t mask = motif_mask_of(model, sequence);
  double intent = spec.checkout_intent;
  if (mask & (1u << kAbandonmentMotif))
    intent = kAfterSupportCheckoutIntent;
  else if (mask & (1u << kConversionMotif))
    intent = kMotifCheckoutIntent;
  if (!rng.bernoulli(intent)) return;

  // Checkout tail: the cart comes before checkout (after a support chat it is already filled).
  if (sequence.back() != kAddToCart && sequence.back() != kSupportChat) sequence.push_back(kAddToCart);
  sequence.push_back(kCheckout);
}

// The logging policy picks an offer for the checkout just emitted (by the journey's device); the
// record keeps the purchase probability under every offer, so the value of any policy is known.
double draw_checkout_offer(JourneyContext& ctx, Channel device, double p_purchase, JourneyRecord& record) {
  const int device_row = device == kWeb ? 0 : 1;
  const double* propensity = kOfferPropensity[device_row];
  const double u = ctx.rng.uniform();
  int offer = 0;
  double cumulative = propensity[0];
  while (offer + 1 < kOfferCount && u >= cumulative) cumulative += propensity[++offer];
  for (int k = 0; k < kOfferCount; ++k)
    record.offer_purchase_probability[k] =
        static_cast<float>(std::clamp(p_purchase + kOfferEffect[k][ctx.segment], 0.0, 1.0));
  record.offer = static_cast<uint8_t>(offer + 1);
  record.offer_propensity = static_cast<float>(propensity[offer]);
  record.offer_device = static_cast<uint8_t>(device_row);
  Event& checkout = ctx.events.back();
  checkout.offer = record.offer;
  checkout.offer_device = static_cast<uint8_t>(device_row);
  return record.offer_purchase_probability[offer];
}

void simulate_normal_journey(JourneyContext& ctx, int64_t start, JourneyRecord& record) {
  thread_local std::vector<uint8_t> sequence;
  draw_browsing_sequence(ctx, sequence);
  const SegmentSpec& spec = ctx.spec;
  Rng& rng = ctx.rng;
  const double web_probability = spec.primary_web_probability / (ctx.drifted ? kDriftWebDivisor : 1.0);
  const Channel device = rng.bernoulli(web_probability) ? kWeb : kApp;

  int64_t time = start;
  for (size_t i = 0; i < sequence.size(); ++i) {
    if (i > 0) time += draw_gap(spec, sequence[i], rng, time - start);
    emit(ctx, time, sequence[i], draw_channel(spec, sequence[i], device, rng), 0);
  }
  record.motif_mask = motif_mask_of(ctx.model, sequence);

  if (sequence.back() == kCheckout) {
    const int64_t checkout_day = time / kSecondsPerDay;
    record.checkout_day = static_cast<int32_t>(checkout_day);
    double p_purchase = kCheckoutConversion;
    if (checkout_day == ctx.calendar.spike_day)
      p_purchase = kSpikeCheckoutConversion;
    else if (record.motif_mask & (1u << kConversionMotif))
      p_purchase = kMotifCheckoutConversion;
    if (ctx.variant == 2) p_purchase = std::min(1.0, p_purchase + ctx.calendar.experiment_lift[ctx.segment]);
    if (ctx.calendar.checkout_offers) p_purchase = draw_checkout_offer(ctx, device, p_purchase, record);
    if (rng.bernoulli(p_purchase)) {
      int64_t gap = std::llround(rng.lognormal(std::log(40.0), 0.5));
      time += std::clamp<int64_t>(gap, 5, 600);
      const double value = rng.lognormal(spec.value_log_mean, spec.value_log_sigma);
      const uint32_t cents = static_cast<uint32_t>(std::clamp<int64_t>(std::llround(value * 100.0), 100, 10000000));
      emit(ctx, time, kPurchase, draw_channel(spec, kPurchase, device, rng), cents);
      record.converted = true;
    }
  }
  record.end_time = time;
}

void simulate_anomalous_journey(JourneyContext& ctx, int64_t start, AnomalyKind kind, JourneyRecord& record) {
  Rng& rng = ctx.rng;
  const Channel device = rng.bernoulli(ctx.spec.primary_web_probability) ? kWeb : kApp;
  int64_t time = start;
  bool first = true;
  auto step = [&](uint8_t touchpoint, uint8_t channel, int64_t lo, int64_t hi) {
    if (!first) time += rng.uniform_int(lo, hi);
    first = false;
    emit(ctx, time, touchpoint, channel, 0);
  };
  switch (kind) {
    case kNavigationLoop: {
      // Stuck between home and search: 15-40 round trips within minutes.
      const int64_t round_trips = rng.uniform_int(15, 40);
      for (int64_t i = 0; i < round_trips; ++i) {
        step(kHome, device, 2, 20);
        step(kSearch, device, 2, 20);
      }
      break;
    }
    case kAbruptFalloff: {
      // A cart, then a burst of failing checkout attempts seconds apart, then nothing.
      step(kHome, device, 5, 60);
      step(kProductView, device, 5, 60);
      step(kAddToCart, device, 5, 60);
      const int64_t attempts = rng.uniform_int(8, 20);
      for (int64_t i = 0; i < attempts; ++i) {
        step(kCheckout, device, 2, 8);
        if (i == 0) record.checkout_day = static_cast<int32_t>(time / kSecondsPerDay);
      }
      break;
    }
    case kBotBurst: {
      // A scraper: dozens of page views one to three seconds apart, always on web.
      const int64_t hits = rng.uniform_int(40, 120);
      for (int64_t i = 0; i < hits; ++i) step(rng.bernoulli(0.8) ? kProductView : kSearch, kWeb, 1, 3);
      break;
    }
    default: assert(false && "not an anomaly kind");
  }
  record.end_time = time;
}

}  // namespace

// ------------------------------------------------------------------ public functions

const char* touchpoint_name(int touchpoint) { return kTouchpointNames[touchpoint]; }
const char* channel_name(int channel) { return kChannelNames[channel]; }
const char* segment_name(int segment) { return default_model().segments[segment].name; }

const char* offer_name(int offer) {
  static const char* const kNames[kOfferCount] = {"none", "discount", "free_shipping"};
  return kNames[offer];
}
const char* anomaly_name(int kind) { return kAnomalyNames[kind]; }

const Model& default_model() {
  static const Model model = build_model();
  return model;
}

Rng::Rng(uint64_t seed, uint64_t stream) {
  uint64_t state = seed;
  const uint64_t seed_mix = splitmix64_next(state);
  state = seed_mix ^ (stream * 0xD1B54A32D192ED03ull);
  for (auto& word : s_) word = splitmix64_next(state);
}

uint64_t Rng::next() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  // Lemire-style multiply-shift; the bias for spans this small (< 2^32) is negligible.
  const unsigned __int128 product = static_cast<unsigned __int128>(next()) * span;
  return lo + static_cast<int64_t>(product >> 64);
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  // Marsaglia polar method: only log and sqrt, which are correctly rounded enough to be stable.
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * std::log(s) / s);
  spare_normal_ = v * factor;
  has_spare_ = true;
  return u * factor;
}

double Rng::lognormal(double log_mean, double log_sigma) { return std::exp(log_mean + log_sigma * normal()); }

int Rng::sample_cdf(const double* cdf, int n) {
  const double u = uniform();
  for (int i = 0; i < n - 1; ++i)
    if (u < cdf[i]) return i;
  return n - 1;
}

bool contains_subsequence(const uint8_t* sequence, size_t n, const std::vector<uint8_t>& items) {
  size_t matched = 0;
  for (size_t i = 0; i < n && matched < items.size(); ++i)
    if (sequence[i] == items[matched]) ++matched;
  return matched == items.size();
}

int draw_journey_count(Rng& rng, int days) {
  const double u = rng.uniform();
  const int wanted = u < 0.60 ? 1 : (u < 0.88 ? 2 : 3);
  const int fits = 1 + (days - 1) / kMinStartDaySpacing;
  return std::min(wanted, std::min(fits, kMaxJourneysPerCustomer));
}

void simulate_customer(const Model& model, Rng& rng, int n_journeys, const Calendar& calendar,
                       double anomaly_fraction, uint32_t local_customer, std::vector<Event>& events,
                       std::vector<JourneyRecord>& journeys) {
  const int segment = rng.sample_cdf(model.segment_cdf.data(), kSegmentCount);
  const SegmentSpec& spec = model.segments[segment];
  JourneyContext ctx{model, spec, static_cast<Segment>(segment), rng, calendar, local_customer, events};
  // The planted experiment's assignment, drawn only when there is one (other datasets keep their bytes).
  const uint8_t variant = calendar.experiment_day >= 0 ? (rng.bernoulli(0.5) ? 2 : 1) : 0;

  // Start days: sorted uniform offsets in the slack left after reserving the minimum spacing, so
  // every journey starts inside the observed period and consecutive ones are >= 5 days apart.
  // With a calendar (start_weight), a draw of start days is kept with probability prod(weight /
  // max weight), so each start day's chance follows its weight.
  const int slack = calendar.days - 1 - kMinStartDaySpacing * (n_journeys - 1);
  assert(slack >= 0);
  std::array<int64_t, kMaxJourneysPerCustomer> offsets{};
  const double max_weight = calendar.start_weight.empty()
                                ? 1.0
                                : *std::max_element(calendar.start_weight.begin(), calendar.start_weight.end());
  constexpr int kMaxStartDraws = 1000000;  // far above the worst validated calendar's ~100 draws
  for (int draw = 0, accepted = 0; !accepted; ++draw) {
    if (draw == kMaxStartDraws) throw std::logic_error("generator: the calendar keeps no start days for a customer");
    for (int j = 0; j < n_journeys; ++j) offsets[j] = rng.uniform_int(0, slack);
    for (int j = 1; j < n_journeys; ++j)  // insertion sort of at most three values
      for (int k = j; k > 0 && offsets[k - 1] > offsets[k]; --k) std::swap(offsets[k - 1], offsets[k]);
    accepted = 1;
    if (calendar.start_weight.empty()) break;
    double keep = 1.0;
    for (int j = 0; j < n_journeys; ++j)
      keep *= calendar.start_weight[static_cast<size_t>(offsets[j] + static_cast<int64_t>(kMinStartDaySpacing) * j)] / max_weight;
    accepted = rng.uniform() < keep ? 1 : 0;
  }

  for (int j = 0; j < n_journeys; ++j) {
    const int64_t day = offsets[j] + static_cast<int64_t>(kMinStartDaySpacing) * j;
    const int64_t hour = rng.sample_cdf(model.hour_cdf[segment].data(), 24);
    const int64_t start = day * kSecondsPerDay + hour * 3600 + rng.uniform_int(0, 3599);

    JourneyRecord record{};
    record.local_customer = local_customer;
    record.journey_number = static_cast<uint8_t>(j);
    record.segment = static_cast<uint8_t>(segment);
    record.checkout_day = -1;
    record.start_time = start;
    ctx.variant = calendar.experiment_day >= 0 && day >= calendar.experiment_day ? variant : 0;
    ctx.drifted = calendar.drift_day >= 0 && day >= calendar.drift_day;
    const size_t first_event = events.size();
    if (anomaly_fraction > 0.0 && rng.bernoulli(anomaly_fraction)) {
      record.anomaly = static_cast<uint8_t>(1 + rng.uniform_int(0, kAnomalyKindCount - 2));
      simulate_anomalous_journey(ctx, start, static_cast<AnomalyKind>(record.anomaly), record);
      thread_local std::vector<uint8_t> sequence;
      sequence.clear();
      for (size_t e = first_event; e < events.size(); ++e) sequence.push_back(events[e].touchpoint);
      record.motif_mask = motif_mask_of(model, sequence);
    } else {
      simulate_normal_journey(ctx, start, record);
    }
    record.n_events = static_cast<int32_t>(events.size() - first_event);
    journeys.push_back(record);
  }
}

}  // namespace jm::generate
