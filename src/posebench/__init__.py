"""PoseBench: does RTMPose (rtmlib, ONNX Runtime) replace MediaPipe Pose in the jump app?

Layers, each importing only from the ones above it in this list:

- ``core``      errors, keypoint sets, the model catalogue, the results-table schema
- ``models``    verify, fetch and store model files (and the sample clip)
- ``backends``  the pose backends, their configurations and presets
- ``io``        video decoding, uploads, atomic files and CSV
- ``engine``    a run: runner, summary, selection rules, the run store
- ``analysis``  agreement, stability, time offset, jump metrics, keypoint accuracy
- ``decision``  the scorecard: rules as data, inputs, evaluation
- ``studies``   the explorer and the speed check, both through the runner
- ``report``    charts and the overlay video
- ``cli``, ``dashboard``   the two front ends
"""

__version__ = "0.2.0"
