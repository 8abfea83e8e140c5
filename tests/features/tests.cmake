jm_add_test(test_features features/test_features.cpp)
