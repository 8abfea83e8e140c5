# Contextual bandits and off-policy evaluation (paths relative to tests/).
jm_add_test(test_bandits bandits/test_bandits.cpp)
