"""The exercises of each lesson: `from httplab.exercises.lesson01 import q1, q2`."""
