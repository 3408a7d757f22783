# Builds the sample render scene and saves it as a .blend:
#   blender -b --factory-startup --python make_scene.py -- OUT.blend
# A red sphere rolls across a checkered floor under a sun, frames 1-8, Cycles on CPU at 320x240
# with 16 samples: a few seconds per frame on one core.
import math
import sys

import bpy

out = sys.argv[sys.argv.index("--") + 1] if "--" in sys.argv else "scene.blend"

bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.samples = 16
scene.cycles.use_denoising = False
scene.render.resolution_x = 320
scene.render.resolution_y = 240
scene.render.resolution_percentage = 100
scene.render.image_settings.file_format = "PNG"
scene.frame_start = 1
scene.frame_end = 8

world = bpy.data.worlds.new("sky")
world.color = (0.05, 0.07, 0.12)
scene.world = world

bpy.ops.mesh.primitive_plane_add(size=12, location=(0, 0, 0))
floor = bpy.context.object
checker = bpy.data.materials.new("floor")
checker.use_nodes = True
nodes = checker.node_tree.nodes
tex = nodes.new("ShaderNodeTexChecker")
tex.inputs["Scale"].default_value = 8.0
checker.node_tree.links.new(tex.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
floor.data.materials.append(checker)

bpy.ops.mesh.primitive_uv_sphere_add(radius=1.0, location=(-3, 0, 1), segments=48, ring_count=24)
ball = bpy.context.object
bpy.ops.object.shade_smooth()
red = bpy.data.materials.new("ball")
red.use_nodes = True
red.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.8, 0.05, 0.03, 1)
ball.data.materials.append(red)
for frame, x in ((1, -3.0), (8, 3.0)):
    ball.location.x = x
    ball.rotation_euler.y = x / 1.0
    ball.keyframe_insert("location", frame=frame)
    ball.keyframe_insert("rotation_euler", frame=frame)

bpy.ops.object.light_add(type="SUN", location=(4, -4, 8))
sun = bpy.context.object
sun.data.energy = 4.0
sun.rotation_euler = (math.radians(40), 0, math.radians(30))

bpy.ops.object.camera_add(location=(0, -10, 4.5))
camera = bpy.context.object
camera.rotation_euler = (math.radians(68), 0, 0)
scene.camera = camera

bpy.ops.wm.save_as_mainfile(filepath=out)
print("saved scene to", out)
