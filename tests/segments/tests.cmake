jm_add_test(test_kmeans segments/test_kmeans.cpp)
jm_add_test(test_segments segments/test_segments.cpp)
jm_add_test(test_kmeans_same_bits segments/test_kmeans_same_bits.cpp)
