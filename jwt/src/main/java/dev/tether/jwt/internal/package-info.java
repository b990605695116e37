/**
 * Implementation of the JWT module: token cache, token sources and key handling. Not an API.
 */
@NullMarked
package dev.tether.jwt.internal;

import org.jspecify.annotations.NullMarked;
