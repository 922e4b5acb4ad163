"""Maths environments: worked solutions, symbolic answer checking, and verbal critique."""
