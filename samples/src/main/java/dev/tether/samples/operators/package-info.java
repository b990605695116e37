/**
 * Small, single-file examples of Tether's composable operators in user pipelines.
 */
@NullMarked
package dev.tether.samples.operators;

import org.jspecify.annotations.NullMarked;
