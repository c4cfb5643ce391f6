"""The shapes world of ../shared/specs/shapes-world.md: scenes as data, the task language (prompts and their
exact answers), and the scoring rules of the spec's last section. Drawing lives in render.py."""
import math
import re
from dataclasses import dataclass, field

SHAPES = ["circle", "square", "triangle", "star", "cross"]
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars", "cross": "crosses"}
COLOURS = {"red": (215, 45, 45), "green": (45, 165, 70), "blue": (45, 85, 215), "yellow": (235, 205, 45),
           "purple": (145, 65, 185), "orange": (240, 135, 35)}
SIZES = {"small": (0.10, 0.18), "large": (0.26, 0.40)}
POSITIONS = [["top left", "top", "top right"], ["left", "center", "right"], ["bottom left", "bottom", "bottom right"]]
TASKS = ["vqa", "caption", "grounding", "refer", "detection", "identify", "chat"]


@dataclass
class Obj:
    shape: str
    colour: str
    size: str
    # Tight pixel bounding box: first and last covered pixel columns/rows (inclusive).
    x1: int
    y1: int
    x2: int
    y2: int
    rgb: tuple = (0, 0, 0)
    params: dict = field(default_factory=dict)  # shape proportions (triangle aspect, star ratio, cross arm)

    @property
    def phrase(self):
        return f"{self.size} {self.colour} {self.shape}"

    @property
    def centre(self):
        return ((self.x1 + self.x2 + 1) / 2, (self.y1 + self.y2 + 1) / 2)


@dataclass
class Scene:
    side: int
    objects: list

    def box(self, o):
        """MiniGPT-v2's {<x1><y1><x2><y2>}: floor(100 * pixel / side)."""
        c = [math.floor(100 * v / self.side) for v in (o.x1, o.y1, o.x2, o.y2)]
        return "{" + "".join(f"<{v}>" for v in c) + "}"

    def position(self, o):
        cx, cy = o.centre
        col = min(2, int(3 * cx / self.side))
        row = min(2, int(3 * cy / self.side))
        return POSITIONS[row][col]

    def ordered(self):
        """Reading order for lists in answers: left to right by the box centre (the spec leaves order free)."""
        return sorted(self.objects, key=lambda o: (o.x1 + o.x2, o.y1 + o.y2))

    def find(self, colour, shape):
        return next((o for o in self.objects if o.colour == colour and o.shape == shape), None)


def join_and(items):
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# MARK: Tasks

def caption(scene):
    return join_and([f"a {o.phrase}" for o in scene.ordered()])


def grounding(scene):
    return ", ".join(f"<p>{o.phrase}</p> {scene.box(o)}" for o in scene.ordered())


def detection(scene, shape):
    found = [o for o in scene.ordered() if o.shape == shape]
    if not found:
        return "none"
    return f"<p>{PLURALS[shape]}</p> " + "<delim>".join(scene.box(o) for o in found)


def describe(scene):
    """Free chat's `describe the image`: each object with its position."""
    def where(p):
        return "in the center" if p == "center" else f"at the {p}" if " " in p or p in ("top", "bottom") else f"on the {p}"
    n = len(scene.objects)
    head = "there is one object: " if n == 1 else f"there are {n} objects: "
    return head + join_and([f"a {o.phrase} {where(scene.position(o))}" for o in scene.ordered()])


def vqa_questions(scene):
    """Every [vqa] question the spec allows for this scene, with its answer."""
    out = []
    objs = scene.objects
    shapes = [o.shape for o in objs]
    colours = [o.colour for o in objs]
    for o in objs:
        if shapes.count(o.shape) == 1:
            out.append((f"what color is the {o.shape}?", o.colour))
        if colours.count(o.colour) == 1:
            out.append((f"what shape is the {o.colour} object?", o.shape))
        out.append((f"where is the {o.colour} {o.shape}?", scene.position(o)))
        out.append((f"is the {o.colour} {o.shape} large or small?", o.size))
        out.append((f"is there a {o.colour} {o.shape}?", "yes"))
    out.append(("how many objects are there?", str(len(objs))))
    for s in SHAPES:
        out.append((f"how many {PLURALS[s]} are there?", str(shapes.count(s))))
    for c in COLOURS:
        for s in SHAPES:
            if scene.find(c, s) is None:
                out.append((f"is there a {c} {s}?", "no"))
    for a in objs:
        for b in objs:
            if a is not b and abs(a.centre[0] - b.centre[0]) >= 0.10 * scene.side:
                out.append((f"is the {a.colour} {a.shape} left of the {b.colour} {b.shape}?",
                            "yes" if a.centre[0] < b.centre[0] else "no"))
    return out


def kind_of_vqa(question):
    for key in ["what color", "what shape", "how many objects", "how many", "is there", "where", "large or small",
                "left of"]:
        if question.startswith(key) or key in question:
            return key
    return "other"


def prompts(scene, task):
    """(instruction, answer) pairs for one task on one scene."""
    if task == "vqa":
        return vqa_questions(scene)
    if task == "caption":
        return [("briefly describe the image", caption(scene))]
    if task == "grounding":
        return [("describe this image in detail", grounding(scene))]
    if task == "refer":
        return [(f"the {o.colour} {o.shape}", scene.box(o)) for o in scene.objects]
    if task == "detection":
        return [(PLURALS[s], detection(scene, s)) for s in SHAPES]
    if task == "identify":
        return [(f"what is this {scene.box(o)}", o.phrase) for o in scene.objects]
    if task == "chat":
        return [("describe the image", describe(scene))]
    raise ValueError(task)


# MARK: Scoring (the spec's "How it is scored")

BOX = re.compile(r"\{<(\d+)><(\d+)><(\d+)><(\d+)>\}")
PHRASE_BOX = re.compile(r"<p>(.*?)</p>\s*((?:\{<\d+><\d+><\d+><\d+>\}(?:\s*<delim>\s*)?)+)")


def clean(text):
    text = text.strip()
    return text[:-1].strip() if text.endswith(".") else text


def boxes_in(text):
    return [tuple(int(v) for v in m) for m in BOX.findall(text)]


def iou(a, b):
    # Boxes in 0..100 units with inclusive ends: a box from 10 to 10 covers one unit.
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = ix * iy
    area = lambda r: max(0, r[2] - r[0] + 1) * max(0, r[3] - r[1] + 1)
    union = area(a) + area(b) - inter
    return inter / union if union else 0.0


def phrases_of_caption(text):
    text = clean(text)
    parts = re.split(r",\s*|\s+and\s+", text)
    return sorted(p.strip()[2:] if p.strip().startswith("a ") else p.strip() for p in parts if p.strip())


def score(task, scene, instruction, truth, answer):
    """1.0 for right, 0.0 for wrong; detection gives its F1."""
    if task in ("vqa", "identify", "chat"):
        return float(clean(answer) == clean(truth))
    if task == "caption":
        return float(phrases_of_caption(answer) == sorted(o.phrase for o in scene.objects))
    if task == "refer":
        got, want = boxes_in(answer), boxes_in(truth)
        return float(len(got) >= 1 and iou(got[0], want[0]) >= 0.5)
    if task == "grounding":
        found = [(p.strip(), boxes_in(b)) for p, b in PHRASE_BOX.findall(answer)]
        if len(found) != len(scene.objects) or any(len(b) != 1 for _, b in found):
            return 0.0
        left = list(scene.objects)
        for phrase, (box,) in found:
            match = next((o for o in left if o.phrase == phrase and iou(box, boxes_in(scene.box(o))[0]) >= 0.5), None)
            if match is None:
                return 0.0
            left.remove(match)
        return 1.0
    if task == "detection":
        want = boxes_in(truth)
        if not want:
            return float(clean(answer) == "none")
        got = boxes_in(answer)
        if not got:
            return 0.0
        used, tp = set(), 0
        for g in got:
            j = next((j for j, w in enumerate(want) if j not in used and iou(g, w) >= 0.5), None)
            if j is not None:
                used.add(j)
                tp += 1
        p, r = tp / len(got), tp / len(want)
        return 2 * p * r / (p + r) if tp else 0.0
    raise ValueError(task)
