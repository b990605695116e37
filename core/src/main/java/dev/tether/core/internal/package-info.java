/**
 * Implementation of the core engine. Not an API: types here may change without notice.
 */
@NullMarked
package dev.tether.core.internal;

import org.jspecify.annotations.NullMarked;
