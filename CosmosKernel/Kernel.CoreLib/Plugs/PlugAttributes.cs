using System;

namespace Kernel.Core.Plugs
{
    /// <summary>
    /// Marks a static class as a plug: at build time the patcher (CosmosKernel/Kernel.Patcher)
    /// replaces the body of each method of the target type that the plug mirrors with a call to
    /// the plug's method, before ilc compiles the image (docs/plugs.md).
    ///
    /// Every public static method of the plug class (property getters and setters included, so
    /// a plug property `Name` plugs the target's property `Name`) is a plug method: the target
    /// must have a method of the same name and signature (same return type, same parameter types;
    /// an instance target method is plugged by a static method whose first parameter is `this`).
    /// Helpers are private or internal, or public with [PlugMethod(Ignore = true)].
    /// </summary>
    [AttributeUsage(AttributeTargets.Class)]
    public sealed class PlugAttribute : Attribute
    {
        /// <summary>The plugged type, when the plug assembly can reference it.</summary>
        public Type Target { get; set; }

        /// <summary>The plugged type by its full name ("Namespace.Outer/Nested"), when it cannot be referenced.</summary>
        public string TargetName { get; set; }

        /// <summary>When the target type is not in any kernel assembly, skip this plug instead of failing the build.</summary>
        public bool IsOptional { get; set; }
    }

    /// <summary>Options for one plug method; a public static method without it is a plug method with the defaults.</summary>
    [AttributeUsage(AttributeTargets.Method | AttributeTargets.Property)]
    public sealed class PlugMethodAttribute : Attribute
    {
        /// <summary>The target method's name when it differs from this method's (e.g. "get_Name", ".ctor").</summary>
        public string TargetName { get; set; }

        /// <summary>When the target has no method of this name, skip this plug method instead of failing the build.</summary>
        public bool IsOptional { get; set; }

        /// <summary>Not a plug method: a public helper the patcher leaves alone.</summary>
        public bool Ignore { get; set; }
    }

    /// <summary>
    /// On a plug target: a plug of this type must replace every public static method of it, or the
    /// build fails (the heap seam: half a heap plugged over the default would free into the wrong heap).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class)]
    public sealed class PlugTargetAttribute : Attribute
    {
        /// <summary>A plug must replace all public static methods (properties included) or none.</summary>
        public bool RequireComplete { get; set; }
    }
}
