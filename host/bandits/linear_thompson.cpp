// Thompson sampling on one Bayesian linear model per action (bandits.hpp).
//
// Model: reward = w_a . x + noise, noise ~ N(0, s2), prior w_a ~ N(0, s2 / lambda I). The posterior
// is N(A^-1 b, s2 A^-1) with A = lambda I + sum x x' and b = sum r x over the action's observations.
// A draw's reward at x is then normal with mean mu . x and variance s2 x' A^-1 x = s2 |L^-1 x|^2
// (A = L L'), so one triangular solve per action replaces sampling a whole weight vector; the
// winning probabilities are one-dimensional integrals over the winner's draw.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/math/quadrature/gauss_kronrod.hpp>

#include "host/core/openblas.hpp"
#include "journeymap/bandits.hpp"
#include "journeymap/common.hpp"

namespace jm {
namespace {

constexpr double kInverseSqrtTwoPi = 0.398942280401432677939946059934;
constexpr double kInverseSqrtTwo = 0.707106781186547524400844362105;

}  // namespace

LinearThompsonPolicy::LinearThompsonPolicy(int actions, int64_t dims, double prior_precision, double noise_variance,
                                           double exploration)
    : dims_(dims), noise_variance_(noise_variance), exploration_(exploration) {
  if (actions < 1 || dims < 1) throw std::invalid_argument("LinearThompsonPolicy needs >= 1 action and dimension");
  if (!(prior_precision > 0.0) || !(noise_variance > 0.0) || !(exploration >= 0.0))
    throw std::invalid_argument("LinearThompsonPolicy: prior precision and noise variance must be > 0");
  const auto d = static_cast<size_t>(dims);
  models_.resize(static_cast<size_t>(actions));
  for (ActionModel& model : models_) {
    model.precision.assign(d * d, 0.0);
    for (size_t i = 0; i < d; ++i) model.precision[i * d + i] = prior_precision;
    model.target.assign(d, 0.0);
    model.mean.assign(d, 0.0);
  }
  refresh();
}

void LinearThompsonPolicy::observe(int action, const double* x, double reward) {
  ActionModel& model = models_.at(static_cast<size_t>(action));
  const auto d = static_cast<size_t>(dims_);
  for (size_t i = 0; i < d; ++i) {
    if (x[i] == 0.0) continue;  // one-hot and share columns are mostly zero
    double* row = model.precision.data() + i * d;
    for (size_t k = 0; k < d; ++k) row[k] += x[i] * x[k];
    model.target[i] += reward * x[i];
  }
}

void LinearThompsonPolicy::refresh() {
  const int n = static_cast<int>(dims_);
  const int one = 1;
  const char lower = 'L';
  for (ActionModel& model : models_) {
    // The precision is symmetric, so its row-major storage is also its column-major one.
    model.cholesky = model.precision;
    int info = 0;
    openblas().dpotrf(&lower, &n, model.cholesky.data(), &n, &info);
    if (info != 0) throw Error("bandit posterior: the precision matrix is not positive definite (LAPACK dpotrf info " +
                               std::to_string(info) + ")");
    model.mean = model.target;
    openblas().dpotrs(&lower, &n, &one, model.cholesky.data(), &n, model.mean.data(), &n, &info);
    if (info != 0) throw Error("bandit posterior: LAPACK dpotrs failed (info " + std::to_string(info) + ")");
  }
}

void LinearThompsonPolicy::draw_distribution(const double* x, std::vector<double>& mean, std::vector<double>& sd) const {
  const auto d = static_cast<size_t>(dims_);
  mean.assign(models_.size(), 0.0);
  sd.assign(models_.size(), 0.0);
  std::vector<double> solved(d);
  for (size_t a = 0; a < models_.size(); ++a) {
    const ActionModel& model = models_[a];
    double m = 0.0;
    for (size_t i = 0; i < d; ++i) m += model.mean[i] * x[i];
    std::copy(x, x + d, solved.begin());
    openblas().dtrsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, static_cast<int>(d), model.cholesky.data(),
                     static_cast<int>(d), solved.data(), 1);
    double squared = 0.0;
    for (double v : solved) squared += v * v;
    mean[a] = m;
    sd[a] = exploration_ * std::sqrt(noise_variance_ * squared);
  }
}

std::vector<double> LinearThompsonPolicy::expected_rewards(const double* x) const {
  std::vector<double> out(models_.size(), 0.0);
  const auto d = static_cast<size_t>(dims_);
  for (size_t a = 0; a < models_.size(); ++a)
    for (size_t i = 0; i < d; ++i) out[a] += models_[a].mean[i] * x[i];
  return out;
}

int LinearThompsonPolicy::choose(const double* x, std::mt19937_64& rng) const {
  std::vector<double> mean, sd;
  draw_distribution(x, mean, sd);
  std::normal_distribution<double> normal(0.0, 1.0);
  int best = 0;
  double best_draw = -std::numeric_limits<double>::infinity();
  for (size_t a = 0; a < mean.size(); ++a) {
    const double draw = mean[a] + sd[a] * normal(rng);
    if (draw > best_draw) {
      best_draw = draw;
      best = static_cast<int>(a);
    }
  }
  return best;
}

std::vector<double> LinearThompsonPolicy::probabilities(const double* x) const {
  std::vector<double> mean, sd;
  draw_distribution(x, mean, sd);
  const size_t k = mean.size();
  std::vector<double> p(k, 0.0);
  if (k == 1) return {1.0};
  // Without exploration the policy is greedy: the largest mean wins (ties to the first).
  if (exploration_ == 0.0) {
    p[static_cast<size_t>(std::max_element(mean.begin(), mean.end()) - mean.begin())] = 1.0;
    return p;
  }
  for (size_t a = 0; a < k; ++a) {
    // P(a wins) = E_z[ prod_{b != a} Phi((m_a + s_a z - m_b) / s_b) ], z standard normal.
    auto integrand = [&](double z) {
      double product = kInverseSqrtTwoPi * std::exp(-0.5 * z * z);
      const double draw = mean[a] + sd[a] * z;
      for (size_t b = 0; b < k && product > 0.0; ++b)
        if (b != a) product *= 0.5 * std::erfc(-(draw - mean[b]) / sd[b] * kInverseSqrtTwo);  // Phi
      return product;
    };
    p[a] = boost::math::quadrature::gauss_kronrod<double, 61>::integrate(integrand, -9.0, 9.0, 10, 1e-9);
  }
  double total = 0.0;
  for (double v : p) total += v;
  for (double& v : p) v /= total;
  return p;
}

LinearThompsonPolicy fit_policy(const LoggedDecisions& logged, const BanditOptions& options) {
  LinearThompsonPolicy policy(static_cast<int>(logged.actions.size()), logged.contexts.dims, options.prior_precision,
                              options.noise_variance, options.exploration);
  for (int64_t i = 0; i < logged.size(); ++i)
    policy.observe(logged.action[static_cast<size_t>(i)], logged.contexts.row(i), logged.reward[static_cast<size_t>(i)]);
  policy.refresh();
  return policy;
}

}  // namespace jm
