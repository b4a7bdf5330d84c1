"""A test that fails now and then, as tests that wait on a service do.

Here the flake is planted instead of timed: the test fails when the file
../flake/fail exists beside the workspace. `runbundle demo` records a run
without that file, then creates it and replays, so the replay's test
output differs from the recording at a known step.
"""
import os
import unittest


class ServiceTest(unittest.TestCase):
    def test_service_answers(self):
        self.assertFalse(os.path.exists("../flake/fail"),
                         "the service did not answer in time")


if __name__ == "__main__":
    unittest.main()
