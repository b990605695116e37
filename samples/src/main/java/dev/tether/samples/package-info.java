/**
 * Samples: the {@code tether} command ({@code cli}), a Spring WebFlux service ({@code spring}),
 * an embedded JWT-checking broker ({@code broker}) and small operator examples ({@code operators}).
 */
@NullMarked
package dev.tether.samples;

import org.jspecify.annotations.NullMarked;
