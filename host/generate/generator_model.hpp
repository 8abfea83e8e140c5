// The behavioural model behind jm::generate_dataset: touchpoints, channels, customer segments,
// planted motifs, anomalies and the checkout spike, as constant tables plus the sampling code that
// turns one customer's random stream into events.
//
// Why our own RNG and distributions: the files must be byte-identical on every platform and for
// every thread count, and the std::*_distribution classes are implementation-defined. Each customer
// gets an independent xoshiro256** stream seeded from (seed, customer index), so a customer's
// events depend on nothing else; blocks of customers can be simulated in any order.
//
// Why the conversion rule looks at the whole sequence: a planted motif's effect is defined on the
// journeys that contain it (as a subsequence, as PrefixSpan counts it), natural occurrences
// included, so the rates written to the truth file are what an analysis of the data measures.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace jm::generate {

// ------------------------------------------------------------------ vocabulary

enum Touchpoint : uint8_t {
  kAdClick,
  kEmailOpen,
  kHome,
  kSearch,
  kCategory,
  kProductView,
  kReviews,
  kAddToCart,
  kCheckout,
  kPurchase,
  kSupportChat,
  kWishlist,
  kStoreVisit,
  kTouchpointCount
};

enum Channel : uint8_t { kWeb, kApp, kEmail, kSocial, kPaidSearch, kStore, kChannelCount };

enum Segment : uint8_t { kResearcher, kImpulse, kComparison, kChurner, kSegmentCount };

enum AnomalyKind : uint8_t { kNoAnomaly, kNavigationLoop, kAbruptFalloff, kBotBurst, kAnomalyKindCount };

enum MotifId : uint8_t { kConversionMotif, kAbandonmentMotif, kMotifCount };

const char* touchpoint_name(int touchpoint);
const char* channel_name(int channel);
const char* segment_name(int segment);
const char* anomaly_name(int kind);  ///< "" for kNoAnomaly

// ------------------------------------------------------------------ time constants

constexpr int64_t kSecondsPerDay = 86400;
/// Hard cap on one gap inside a journey (the contract in generate.hpp says "never more than 12 h").
constexpr int64_t kMaxGapSeconds = 12 * 3600 - 1;
/// Cap on a journey's duration; with journeys starting >= kMinStartDaySpacing days apart this keeps
/// the quiet time between two journeys of a customer above 3 days.
constexpr int64_t kMaxJourneySeconds = 20 * 3600;
/// Journeys of one customer start on days at least this far apart: the next journey starts no
/// earlier than (5 - 1) days - 20 h > 3 days after the previous one's last event.
constexpr int kMinStartDaySpacing = 5;
constexpr int kMaxJourneysPerCustomer = 3;

// ------------------------------------------------------------------ planted rates

/// P(purchase | checkout) outside the spike day, for journeys without the conversion motif.
constexpr double kCheckoutConversion = 0.70;
/// P(purchase | checkout) for journeys that contain the conversion motif.
constexpr double kMotifCheckoutConversion = 0.88;
/// P(purchase | checkout) for every checkout whose event falls on the spike day.
constexpr double kSpikeCheckoutConversion = 0.25;
/// P(reaching checkout) for journeys that contain the conversion motif.
constexpr double kMotifCheckoutIntent = 0.80;
/// P(going on to checkout after add_to_cart -> support_chat); otherwise the journey exits there.
constexpr double kAfterSupportCheckoutIntent = 0.05;

// ------------------------------------------------------------------ planted checkout offers

/// Actions of the planted checkout offers (GeneratorOptions::checkout_offers), in this order.
constexpr int kOfferCount = 3;
const char* offer_name(int offer);  ///< "none", "discount", "free_shipping"
/// What each offer adds to the probability that a checkout becomes a purchase, by segment
/// (researcher, impulse, comparison, churner); the sum is clamped to [0, 1]. No single offer is best
/// for everyone, so a policy that reads the journey beats every fixed offer.
constexpr double kOfferEffect[kOfferCount][kSegmentCount] = {
    {0.00, 0.00, 0.00, 0.00},     // none
    {-0.05, 0.02, 0.12, 0.08},    // discount
    {0.08, 0.04, 0.02, 0.00}};    // free_shipping
/// The exploring policy that chose the logged offers: its probabilities by the journey's main
/// device (web, app). Every offer keeps a share, so off-policy estimates of any policy are possible.
constexpr double kOfferPropensity[2][kOfferCount] = {{0.5, 0.3, 0.2}, {0.2, 0.3, 0.5}};

// ------------------------------------------------------------------ model tables

struct SegmentSpec {
  const char* name;
  const char* description;
  double share;               ///< probability that a customer belongs to the segment
  int body_min, body_max;     ///< browsing events before the checkout tail (inclusive range)
  int length_min, length_max; ///< events of a non-anomalous journey (inclusive range)
  double checkout_intent;     ///< P(reaching checkout) without a motif
  double conversion_motif_injection;   ///< share of journeys given search -> reviews -> add_to_cart
  double abandonment_motif_injection;  ///< share of journeys ended with add_to_cart -> support_chat
  double expected_conversion_rate;     ///< approximate, measured on 1M journeys with default options
  double value_log_mean, value_log_sigma;  ///< order value ~ lognormal
  double gap_median_seconds, gap_log_sigma;
  double long_gap_probability;  ///< a 30 min - 6 h pause before an event
  double primary_web_probability;  ///< P(journey's device is web rather than app)
  double paid_search_ad_probability;  ///< P(ad_click comes from paid_search rather than social)
  std::array<double, 24> hour_weights;  ///< journey start time of day (UTC)
  std::array<double, kTouchpointCount> entry_weights;
  std::array<std::array<double, kTouchpointCount>, kTouchpointCount> transition_weights;
};

struct MotifSpec {
  const char* name;
  const char* effect;  ///< "conversion" or "abandonment"
  const char* description;
  std::vector<uint8_t> items;
  double intended_rate_with;     ///< intended conversion rate of journeys containing the motif
  double intended_rate_without;  ///< intended conversion rate of the other journeys (approximate)
};

/// Cumulative tables built once from the specs; read-only and shared by all threads.
struct Model {
  std::array<SegmentSpec, kSegmentCount> segments;
  std::array<MotifSpec, kMotifCount> motifs;
  std::array<double, kSegmentCount> segment_cdf;
  std::array<std::array<double, 24>, kSegmentCount> hour_cdf;
  std::array<std::array<double, kTouchpointCount>, kSegmentCount> entry_cdf;
  std::array<std::array<std::array<double, kTouchpointCount>, kTouchpointCount>, kSegmentCount> transition_cdf;
};

const Model& default_model();

// ------------------------------------------------------------------ random numbers

/// xoshiro256** with hand-written distributions (bit-identical everywhere).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream);
  uint64_t next();
  double uniform();                              ///< [0, 1)
  int64_t uniform_int(int64_t lo, int64_t hi);   ///< inclusive range, lo <= hi
  bool bernoulli(double p) { return uniform() < p; }
  double normal();
  double lognormal(double log_mean, double log_sigma);
  int sample_cdf(const double* cdf, int n);      ///< index i with P = cdf[i] - cdf[i-1]

 private:
  uint64_t s_[4];
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

// ------------------------------------------------------------------ simulation

/// One event of a block: timestamps are seconds since start_date 00:00:00 UTC.
struct Event {
  int64_t time;
  uint32_t local_customer;  ///< index of the customer inside its block
  uint8_t touchpoint;
  uint8_t channel;
  uint32_t value_cents;     ///< 0 unless touchpoint == kPurchase
  uint8_t variant = 0;      ///< planted experiment: 0 none (not in the test yet), 1 A, 2 B
  uint8_t offer = 0;        ///< planted checkout offer shown at this event: 0 none, 1 + offer index
  uint8_t offer_device = 0; ///< row of kOfferPropensity the offer was drawn from (0 web, 1 app)
};

/// Ground truth of one journey.
struct JourneyRecord {
  uint32_t local_customer;
  uint8_t journey_number;
  uint8_t segment;
  uint8_t anomaly;      ///< AnomalyKind
  uint8_t motif_mask;   ///< bit m set when the journey contains motif m as a subsequence
  bool converted;
  int32_t n_events;
  int32_t checkout_day;  ///< day (since start_date) of the first checkout event; -1 when none
  int64_t start_time, end_time;
  uint8_t offer = 0;     ///< planted checkout offer: 0 none, 1 + offer index
  float offer_propensity = 0.0f;  ///< the logging policy's probability of that offer
  uint8_t offer_device = 0;       ///< row of kOfferPropensity the policy drew from (0 web, 1 app)
  std::array<float, kOfferCount> offer_purchase_probability{};  ///< P(purchase) had each offer been shown
};

struct Calendar {
  int days = 0;   ///< journeys start in [0, days * 86400)
  int spike_day = -1;///< -1 for none
  int experiment_day = -1;  ///< first day of the planted A/B test; -1 for none
  std::array<double, kSegmentCount> experiment_lift{};  ///< B's extra checkout purchase probability by segment
  bool checkout_offers = false;  ///< plant logged checkout offers (kOfferEffect, kOfferPropensity)
  int drift_day = -1;            ///< first day of the planted device drift; -1 for none
  /// Relative chance of a journey start per day (weekday pattern, campaign, outage); empty: uniform.
  std::vector<double> start_weight;
};

/// From the drift day on, a journey's chance to be made on the web is divided by this.
constexpr double kDriftWebDivisor = 4.0;

/// The first draw of a customer's stream: how many journeys the customer wants (1..3, capped so
/// that they fit into `days` with the start-day spacing).
int draw_journey_count(Rng& rng, int days);

/// Simulates one customer with `n_journeys` journeys (the count drawn by draw_journey_count, or
/// fewer for the dataset's last customer), continuing the same stream. Appends to `events` and
/// `journeys`.
void simulate_customer(const Model& model, Rng& rng, int n_journeys, const Calendar& calendar,
                       double anomaly_fraction, uint32_t local_customer, std::vector<Event>& events,
                       std::vector<JourneyRecord>& journeys);

/// True when `items` occurs in `sequence` as a subsequence (in order, gaps allowed).
bool contains_subsequence(const uint8_t* sequence, size_t n, const std::vector<uint8_t>& items);

}  // namespace jm::generate
