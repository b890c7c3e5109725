"""The course's declarations: ``course.toml`` (:mod:`.config`), the declaration types (:mod:`.spec`),
the four assignments (:mod:`.assignments`), the reference answers (:mod:`.reference`) and the
synthetic face data (:mod:`.faces`). Data the engine is generic over; it imports only :mod:`grader.judge`.
"""
