/** The starter's workings: factories, bean registration, lifecycles, health. Not an API. */
@NullMarked
package dev.tether.spring.boot.internal;

import org.jspecify.annotations.NullMarked;
