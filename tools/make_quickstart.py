"""Write notebooks/01_quickstart.ipynb (then execute it with nbconvert)."""

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
    md("""# 01 · Quickstart: recognise photos offline, read the frames

After this notebook you will be able to:

* call an image-recognition service from Python and get a **tidy DataFrame** back;
* tell a failed image from a successful one (nobody's image is silently dropped);
* draw the **subject box** a service finds on the photo;
* make exactly the same call over HTTP to `vislab serve`, and know the one line that sends it
  to Baidu's cloud instead.

Everything here runs offline: vislab ships a small local engine (EfficientNet-Lite0, an
ImageNet-1k classifier) that answers the same requests the cloud service answers."""),
    code("""import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from PIL import Image
from skimage import data

from vislab import baidu

# Photos compress far better as JPEG than PNG: keeps the saved notebook small.
%config InlineBackend.figure_formats = ["jpeg"]

# Four real photographs that ship with scikit-image, saved as JPEG files like your own photos,
# in a scratch folder so the notebook leaves nothing behind in your project.
os.chdir(tempfile.mkdtemp(prefix="vislab-quickstart-"))
folder = Path("photos")
folder.mkdir()
photos = {"cat": data.chelsea(), "coffee": data.coffee(),
          "astronaut": data.astronaut(), "rocket": data.rocket()}
for name, pixels in photos.items():
    Image.fromarray(pixels).save(folder / f"{name}.jpg", quality=90)

fig, axes = plt.subplots(1, 4, figsize=(12, 3))
for ax, (name, pixels) in zip(axes, photos.items()):
    ax.imshow(pixels); ax.set_title(name); ax.axis("off")
plt.show()"""),
    md("""## One call, one frame

`baidu.ImageClassify()` with no keys runs on the local engine. Its methods carry the names of
Baidu's own SDK (`advancedGeneral` becomes `advanced_general`). You can pass one image or many:
a path, a glob pattern, a list, a dict, a pandas Series, bytes, a PIL image or an array."""),
    code("""client = baidu.ImageClassify()
labels = client.advanced_general(str(folder / "*.jpg"))
labels.head(10)"""),
    md("""One row per (image, label): `rank` 1 is the best guess, `score` is the model's confidence
and `root` a coarse parent category. `error_code` and `error_msg` are empty because every
photo worked. The top answer for each photo:"""),
    code("""labels[labels["rank"] == 1][["image", "label", "score", "root"]]"""),
    md("""The untouched reply of the service is kept too, in `labels.attrs["raw"]`, so nothing the
service said is lost when it becomes a table:"""),
    code("""first = next(iter(labels.attrs["raw"].values()))
{key: first[key] for key in ("result_num", "result")}"""),
    md("""## Specialised views

Dish, animal, plant and car recognition are narrower questions. Locally they are answered
from a documented subset of ImageNet's classes; when the photo is not one of them, the answer
says so ("not car") instead of forcing a guess, as the cloud service does."""),
    code("""pets = client.animal_detect({"cat": photos["cat"]}, top_num=3)
cars = client.car_detect({"coffee": photos["coffee"], "rocket": photos["rocket"]}, top_num=2)
pets[["image", "rank", "label", "score"]]"""),
    code("""cars[["image", "rank", "label", "score"]]"""),
    md("""## Bad input keeps its row

A batch with a broken file, a missing file and a 10×10 icon still answers for the good photos;
each bad image keeps one row that says what was wrong."""),
    code("""Path("notes.jpg").write_text("this is a text file with a .jpg name")
batch = [folder / "cat.jpg", "notes.jpg", "missing.jpg", Image.new("RGB", (10, 10)),
         folder / "coffee.jpg"]
dishes = client.dish_detect(batch, top_num=1)
dishes[["image", "label", "score", "error_code", "error_msg"]]"""),
    md("""## Where is the subject?

`object_detect` returns the box of the main subject (`x`, `y`, `w`, `h` in pixels, top-left
origin). The cloud API gives no label or score for it, and neither do we."""),
    code("""from vislab.plot import draw_boxes

boxes = client.object_detect(photos)
fig, axes = plt.subplots(1, 4, figsize=(12, 3))
for ax, (name, pixels) in zip(axes, photos.items()):
    draw_boxes(ax, pixels, boxes[boxes["image"] == name], linewidth=3, title=name)
plt.show()
boxes[["image", "x", "y", "w", "h"]]"""),
    md("""`multi_object_detect` finds several subjects and names each one:"""),
    code("""objects = client.multi_object_detect({"astronaut": photos["astronaut"]})
fig, ax = plt.subplots(figsize=(5, 5))
draw_boxes(ax, photos["astronaut"], objects, color_by="label")
plt.show()
objects[["label", "score", "x", "y", "w", "h"]]"""),
    md("""## The same call over HTTP

`vislab serve` puts the same engine behind the real wire protocol: an OAuth token endpoint and
Baidu's paths, form bodies, JSON replies and error codes. Any HTTP client — vislab's, the
official `baidu-aip` SDK, `curl` — can talk to it. Here we start it on 127.0.0.1 with a key
pair of our own and point the client at it."""),
    code("""import os
import re
import subprocess
import sys

# Keys go in the environment: command-line flags are visible to every user in `ps`.
keys = {"VISLAB_SERVE_API_KEY": "demo-key", "VISLAB_SERVE_SECRET_KEY": "demo-secret"}
server = subprocess.Popen(
    [sys.executable, "-m", "vislab", "serve", "--port", "0"],
    stdout=subprocess.PIPE, text=True, env={**os.environ, **keys})
line = server.stdout.readline()
url = re.search(r"http://127\\.0\\.0\\.1:\\d+", line).group(0)
print(line.strip())"""),
    code("""remote = baidu.ImageClassify("demo-key", "demo-secret", base_url=url)
over_http = remote.advanced_general(str(folder / "*.jpg"))
print(remote)  # no key or secret in the repr
same = over_http.equals(labels)
print("identical to the in-process answer:", same)"""),
    code("""server.terminate()
print("vislab serve stopped with code", server.wait(10))"""),
    md("""## Switching to Baidu's cloud

With keys from the Baidu AI console (Products → Image recognition → create an app), the same
code calls the real service. Keep keys out of notebooks: put them in the environment variables
`VISLAB_BAIDU_API_KEY` and `VISLAB_BAIDU_SECRET_KEY` and write

```python
client = baidu.ImageClassify()        # picks the keys up from the environment
# or, explicitly:
client = baidu.ImageClassify(api_key="...", secret_key="...")
```

Cloud answers are in Chinese and carry fields the local engine cannot know (`baike_info`,
dish calories, car model years); the frame's columns are the same.

## Try this

1. Recognise a photo of your own: `client.advanced_general("my_photo.jpg")`.
2. Crop the astronaut photo to her face and compare the top labels before and after.
3. Call `client.plant_detect` on the coffee photo: what does "not plant" mean here?
4. Pass `fit=False` to `baidu.ImageClassify` and send a 6000×4000 image: which rule breaks?"""),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"}})
nbf.write(nb, "notebooks/01_quickstart.ipynb")
